import XCTest
import Foundation
@testable import PrnJupyter

/// `prn kernel` and `prn kernel install` as a user (or Jupyter) runs them, without Python.
final class KernelCommandTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("prn-kernel-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
    }

    private func prn(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        guard let executable = KernelTests.prnExecutable else {
            XCTFail("no prn executable beside the test bundle")
            return (-1, "", "")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    func testInstallWritesKernelJSONForTheUserOrAPrefix() throws {
        let user = try prn(["kernel", "install", "--user"], environment: ["JUPYTER_DATA_DIR": folder.appendingPathComponent("user").path])
        XCTAssertEqual(user.status, 0, user.stderr)
        let prefix = try prn(["kernel", "install", "--prefix", folder.appendingPathComponent("venv").path])
        XCTAssertEqual(prefix.status, 0, prefix.stderr)
        for path in ["user/kernels/prn/kernel.json", "venv/share/jupyter/kernels/prn/kernel.json"] {
            let data = try Data(contentsOf: folder.appendingPathComponent(path))
            let spec = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            let argv = spec?["argv"] as? [String] ?? []
            XCTAssertEqual(Array(argv.dropFirst()), ["kernel", "-f", "{connection_file}"], path)
            XCTAssertEqual(argv.first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path },
                           KernelTests.prnExecutable?.resolvingSymlinksInPath().path, path)
            XCTAssertEqual(spec?["language"] as? String, "prn")
            XCTAssertEqual(spec?["interrupt_mode"] as? String, "signal")
        }
        let both = try prn(["kernel", "install", "--user", "--prefix", folder.path])
        XCTAssertEqual(both.status, 2, "--user and --prefix together are a usage error")
    }

    func testBadConnectionFilesStopTheKernelWithAMessage() throws {
        let none = try prn(["kernel"])
        XCTAssertEqual(none.status, 2)
        XCTAssertTrue(none.stderr.contains("connection file"), none.stderr)
        let missing = try prn(["kernel", "-f", folder.appendingPathComponent("nope.json").path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("cannot read the connection file"), missing.stderr)
        let cases = [
            ("md5.json", #"{"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5, "key": "k", "signature_scheme": "hmac-md5"}"#,
             "unsupported signature_scheme 'hmac-md5'"),
            ("udp.json", #"{"transport": "udp", "shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5}"#,
             "unsupported transport 'udp'"),
            ("ports.json", #"{"shell_port": 1, "iopub_port": 2}"#, "is not a connection file"),
            ("text.json", "not json", "is not a connection file"),
        ]
        for (name, text, message) in cases {
            let path = folder.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try prn(["kernel", "-f", path])
            XCTAssertEqual(result.status, 1, name)
            XCTAssertTrue(result.stderr.contains(message), "\(name): \(result.stderr)")
        }
    }

    func testEndpointsAreTheConnectionFilesAddress() throws {
        let text = #"{"ip": "::1", "shell_port": 5, "iopub_port": 6, "stdin_port": 7, "control_port": 8, "hb_port": 9}"#
        var info = try JSONDecoder().decode(ConnectionInfo.self, from: Data(text.utf8))
        XCTAssertEqual(info.endpoint(port: 5), "tcp://[::1]:5")
        XCTAssertEqual(info.signatureScheme, "hmac-sha256")
        info.ip = "127.0.0.1"
        XCTAssertEqual(info.endpoint(port: 6), "tcp://127.0.0.1:6")
        info.transport = "ipc"
        info.ip = "/tmp/kernel"
        XCTAssertEqual(info.endpoint(port: 7), "ipc:///tmp/kernel-7")
    }
}
