import XCTest
import Foundation

/// The shell scripts the README tells people to run (install, benchmarks, the Slurm array job)
/// must at least parse: `bash -n` on each.
final class ShellScriptTests: XCTestCase {
    func testEveryShellScriptParses() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let enumerator = FileManager.default.enumerator(at: root.appendingPathComponent("scripts"), includingPropertiesForKeys: nil)
        var scripts = (enumerator?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "sh" }
        scripts.append(root.appendingPathComponent(".ci/run"))
        XCTAssertTrue(scripts.contains { $0.lastPathComponent == "slurm-frankle.sh" })
        for script in scripts {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-n", script.path]
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            process.waitUntilExit()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(process.terminationStatus, 0, "\(script.lastPathComponent): \(message)")
        }
    }
}
