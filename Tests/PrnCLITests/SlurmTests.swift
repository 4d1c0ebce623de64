import Foundation
import XCTest

/// The scale-out recipes README gives, run for real: a Slurm array job on a one-node Slurm
/// started on this machine, and GNU parallel (`scripts/test-slurm.sh`). Skipped on a developer
/// machine that cannot install Slurm (no root, no sudo); in CI (CI=true) it must run and pass.
final class SlurmTests: XCTestCase {
    func testArrayJobAndGNUParallelMergeToTheSerialTables() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let inCI = ProcessInfo.processInfo.environment["CI"] == "true"
        let canInstall = getuid() == 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/sudo")
        if !inCI && !canInstall { throw XCTSkip("needs root or sudo to install and start Slurm") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("scripts/test-slurm.sh").path, PrnBinary.url.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("slurm: the array job's merged tables equal the serial run's"), text)
        XCTAssertTrue(text.contains("parallel: the merged tables equal the serial run's"), text)
    }
}
