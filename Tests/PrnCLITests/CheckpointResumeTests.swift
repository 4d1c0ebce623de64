import Foundation
import XCTest

/// `train … checkpoint="dir"`: a training killed mid-epoch and run again resumes from its last
/// finished epoch and ends with exactly the weights of a run that was never interrupted.
final class CheckpointResumeTests: FolderTestCase {
    static let script = """
        set timing off
        folder = "ck"
        out = "final.safetensors"
        d = data synthetic classes=4 shape=[16] train=20000 test=200 seed=1
        m = model mlp widths=[256, 128] data=d
        r = train m data=d epochs=8 checkpoint=folder
        save r.model to out
        print r.history
        """

    func testAKilledTrainingResumesBitIdentical() throws {
        try write("train.prn", Self.script)
        let reference = try PrnBinary.run(["run", "train.prn", "--set", "folder=\"ref\"", "--set", "out=\"ref.safetensors\""], in: folder)
        XCTAssertEqual(reference.status, 0, reference.stderr)
        XCTAssertEqual(Self.epochLines(reference.stdout), 8)

        // Killed during epoch 4 (or later): epochs 1–3 at least are in the checkpoint.
        let child = try PrnProcess(["run", "train.prn"], directory: folder)
        XCTAssertTrue(child.waitForLine(prefix: "epoch 3/8"))
        child.signal(SIGKILL)
        XCTAssertEqual(child.finish().status, 128 + SIGKILL)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("final.safetensors").path))

        let resumed = try PrnBinary.run(["run", "train.prn"], in: folder)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        // Epochs 1 and 2 were saved before epoch 3 was printed: only the rest ran again.
        let resumedAfter = resumed.stdoutLines.first { $0.hasPrefix("resuming from ck after epoch ") }
        let done = resumedAfter.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        XCTAssertGreaterThanOrEqual(done, 2, resumed.stdout)
        XCTAssertEqual(Self.epochLines(resumed.stdout), 8 - done)
        let weights = try Data(contentsOf: folder.appendingPathComponent("final.safetensors"))
        XCTAssertEqual(weights, try Data(contentsOf: folder.appendingPathComponent("ref.safetensors")))
        // The history is the uninterrupted run's too, but for each epoch's wall-clock seconds.
        XCTAssertEqual(Self.historyWithoutSeconds(resumed.stdout), Self.historyWithoutSeconds(reference.stdout))
    }

    /// Lines `epoch k/8 …` a run printed.
    static func epochLines(_ stdout: String) -> Int {
        stdout.split(separator: "\n").filter { $0.hasPrefix("epoch ") && $0.contains("/8 ") }.count
    }

    /// The printed history table (the last 9 lines) without its last column, the seconds.
    static func historyWithoutSeconds(_ stdout: String) -> [String] {
        stdout.split(separator: "\n").suffix(9).map { $0.split(separator: " ").dropLast().joined(separator: " ") }
    }

    /// With a results file, a unit's training saves its epochs on its own, and `--resume` goes on
    /// mid-way through the unit it was killed in.
    func testAResumedUnitsTrainingGoesOnMidWay() throws {
        try write("grid.prn", """
            set timing off
            d = data synthetic classes=4 shape=[16] train=20000 test=200 seed=1
            t = table
            for a in [1, 2] {
              r = train (model mlp widths=[256, 128] data=d) data=d epochs=8
              row t a=a acc=r.test_acc loss=r.test_loss
            }
            show t
            """)
        let serial = try PrnBinary.run(["run", "grid.prn", "--jobs", "1"], in: folder)
        XCTAssertEqual(serial.status, 0, serial.stderr)
        let child = try PrnProcess(["run", "grid.prn", "--jobs", "1", "--results", "r.jsonl"], directory: folder)
        XCTAssertTrue(child.waitForLine(prefix: "epoch 3/8"))
        child.signal(SIGKILL)
        _ = child.finish()
        let resumed = try PrnBinary.run(["run", "grid.prn", "--jobs", "1", "--results", "r.jsonl", "--resume"], in: folder)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdoutLines.contains { $0.hasPrefix("resuming from r.jsonl.checkpoints/1-0/") }, resumed.stdout)
        XCTAssertEqual(resumed.stdoutLines.suffix(3), serial.stdoutLines.suffix(3))
        // A finished unit's checkpoints are gone, and so is their folder once empty.
        XCTAssertFalse(exists("r.jsonl.checkpoints"))
    }
}
