import Foundation
import XCTest
import PrnTestSupport

/// The scale-out recipes README gives, run for real: a Slurm array job on a one-node Slurm
/// started on this machine, and GNU parallel (`scripts/test-slurm.sh`). Skipped on a developer
/// machine that cannot install Slurm (no root, no sudo); in CI (CI=true) it must run and pass.
final class SlurmTests: XCTestCase {
    func testArrayJobAndGNUParallelMergeToTheSerialTables() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let inCI = ProcessInfo.processInfo.environment["CI"] == "true"
        let canInstall = getuid() == 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/sudo")
        if !inCI && !canInstall { throw XCTSkip("needs root or sudo to install and start Slurm") }
        // Slurm's daemons outlive the script, so its end is waited for without Foundation's
        // Process (see BoundedRun); ten minutes is several times what it takes.
        let run = try BoundedRun.run(["bash", root.appendingPathComponent("scripts/test-slurm.sh").path, PrnBinary.url.path],
                                     seconds: 600)
        let text = run.output
        XCTAssertFalse(run.timedOut, "scripts/test-slurm.sh did not end within ten minutes:\n\(text)")
        XCTAssertEqual(run.status, 0, text)
        XCTAssertTrue(text.contains("slurm: the array job's merged tables equal the serial run's"), text)
        XCTAssertTrue(text.contains("parallel: the merged tables equal the serial run's"), text)
    }
}
