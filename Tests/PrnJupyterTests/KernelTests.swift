import XCTest
import Foundation
import PrnTestSupport

/// Runs the Python scripts beside this file, which drive the real `prn` executable through
/// Jupyter's own libraries: jupyter_client (kernel_test.py) and nbformat + nbclient
/// (notebook_test.py). Each prints a line per failed check and `N passed, N failed`.
///
/// Without those libraries the tests are skipped on a developer machine and FAIL under CI,
/// where `scripts/install-deps.sh` must have installed them.
final class KernelTests: XCTestCase {
    func testKernelAnswersJupyterClient() throws {
        try runScript("kernel_test.py")
    }

    func testNotebooksValidateAndRunUnderNbclient() throws {
        try runScript("notebook_test.py")
    }

    private static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    /// The `prn` built beside this test bundle (`swift test` builds every product), or `PRN_BINARY`.
    static var prnExecutable: URL? {
        if let path = ProcessInfo.processInfo.environment["PRN_BINARY"] { return URL(fileURLWithPath: path) }
        let bundle = Bundle(for: KernelTests.self).bundleURL
        let candidates = [bundle.deletingLastPathComponent(), bundle, bundle.deletingLastPathComponent().deletingLastPathComponent()]
        return candidates.map { $0.appendingPathComponent("prn") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Whether python3 has Jupyter's libraries. When not, the test skips on a developer machine
    /// and fails under CI (`CI=true`, or `PRN_REQUIRE_REFERENCES` as `.ci/run` sets).
    private func dependenciesPresent() throws -> Bool {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import jupyter_client, nbformat, nbclient, zmq"]
        probe.standardError = FileHandle.nullDevice
        var present = false
        if (try? probe.run()) != nil {
            probe.waitUntilExit()
            present = probe.terminationStatus == 0
        }
        let what = "python3 with jupyter_client, nbformat and nbclient"
        if !present && ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("\(what) is missing under CI (scripts/install-deps.sh installs it)")
            return false
        }
        try References.require(present, what)
        return true
    }

    private func runScript(_ name: String) throws {
        guard try dependenciesPresent() else { return }
        guard let prn = Self.prnExecutable else { return XCTFail("no prn executable beside the test bundle") }
        // Bounded, and not through Foundation's Process: a kernel the client failed to stop would
        // otherwise hold the test forever (see BoundedRun).
        let run = try BoundedRun.run(["python3", Self.folder.appendingPathComponent(name).path, prn.path], seconds: 600)
        let text = run.output
        XCTAssertFalse(run.timedOut, "\(name) did not end within ten minutes:\n\(text)")
        let summary = text.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertEqual(run.status, 0, "\(name) failed:\n\(text)")
        XCTAssertTrue(summary.hasSuffix(" 0 failed") && !summary.hasPrefix("0 passed"), "\(name): \(summary)\n\(text)")
    }
}
