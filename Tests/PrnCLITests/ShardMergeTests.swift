import Foundation
import XCTest

/// `prn run --shard/--results/--resume` and `prn merge`, as a job array runs them.
final class ShardMergeTests: FolderTestCase {
    /// A grid whose rows depend on the loop indices, a `--set` value and a derived-seed draw, with
    /// rows outside the loop (which every shard writes) before and after it.
    static let grid = """
        scale = 10
        t = table
        row t stage="start"
        for a in [1, 2, 3, 4, 5] {
          for b in range(2) {
            r = tensor rand [1]
            row t a=a b=b y=(a * scale + b) draw="\\(r)"
          }
        }
        row t stage="end"
        show t
        """

    override func setUpWithError() throws {
        try super.setUpWithError()
        try write("grid.prn", Self.grid)
    }

    private func runShards(_ count: Int, set: [String] = []) throws -> [String] {
        try (0..<count).map { i in
            let name = "s\(i).jsonl"
            let result = try PrnBinary.run(["run", "grid.prn", "--shard", "\(i)/\(count)", "--results", name]
                                           + set.flatMap { ["--set", $0] }, in: folder)
            XCTAssertEqual(result.status, 0, result.stderr)
            return name
        }
    }

    /// The merged shards print exactly the table the serial run shows, for 2 and 3 shards.
    func testMergedShardsEqualTheSerialRun() throws {
        let serial = try prn("run", "grid.prn", "--set", "scale=100")
        XCTAssertEqual(serial.status, 0, serial.stderr)
        XCTAssertEqual(serial.stdoutLines.count, 1 + 12, "header and 12 rows: \(serial.stdout)")
        XCTAssertTrue(serial.stdout.contains("500"), "--set scale=100 took effect: \(serial.stdout)")
        for count in [2, 3] {
            let files = try runShards(count, set: ["scale=100"])
            let merged = try PrnBinary.run(["merge"] + files.reversed(), in: folder)
            XCTAssertEqual(merged.status, 0, merged.stderr)
            // The merged table is titled with its name, as the shards may have written several.
            XCTAssertEqual(merged.stdoutLines, ["t"] + serial.stdoutLines, "\(count) shards merged")
        }
    }

    func testMergeWritesANotebook() throws {
        let files = try runShards(2)
        let merged = try PrnBinary.run(["merge"] + files + ["--notebook", "grid.md"], in: folder)
        XCTAssertEqual(merged.status, 0, merged.stderr)
        let notebook = try read("grid.md")
        XCTAssertTrue(notebook.contains("| 5 | 1 | 51 |"), notebook)
        XCTAssertTrue(notebook.contains("s0.jsonl") && notebook.contains("s1.jsonl"), "provenance names the files")
    }

    func testMergeRefusesAMissingShard() throws {
        let files = try runShards(3)
        let result = try PrnBinary.run(["merge", files[0], files[2]], in: folder)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderrLines, ["error: missing shard 1/3: give the results file of every shard"])
        XCTAssertEqual(result.stdout, "", "no partial tables")
    }

    func testMergeNamesACorruptLine() throws {
        let files = try runShards(2)
        var lines = try read(files[1]).split(separator: "\n").map(String.init)
        lines[2] = String(lines[2].prefix(20))
        try write(files[1], lines.joined(separator: "\n") + "\n")
        let result = try PrnBinary.run(["merge"] + files, in: folder)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.hasPrefix("error: s1.jsonl:3: "), result.stderr)
        XCTAssertEqual(result.stdout, "")
        let missing = try prn("merge", "nowhere.jsonl")
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("cannot read nowhere.jsonl"), missing.stderr)
    }

    /// A preempted shard resumes where it stopped and ends with the rows of an uninterrupted run.
    func testResumeFinishesAnInterruptedShard() throws {
        let complete = try runShards(2)
        let whole = try read(complete[0])
        // Keep the header, the row before the loop and the first finished iteration, then a
        // torn line, as a job killed while writing leaves it.
        let lines = whole.split(separator: "\n").map(String.init)
        let firstDone = try XCTUnwrap(lines.firstIndex { $0.contains("\"kind\":\"done\"") })
        try write("resumed.jsonl", lines[...firstDone].joined(separator: "\n") + "\n" + String(lines[firstDone + 1].prefix(15)))
        let resumed = try prn("run", "grid.prn", "--shard", "0/2", "--results", "resumed.jsonl", "--resume")
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let rows = { (text: String) in text.split(separator: "\n").filter { $0.contains("\"kind\":\"row\"") }.sorted() }
        XCTAssertEqual(rows(try read("resumed.jsonl")), rows(whole))
        let merged = try prn("merge", "resumed.jsonl", complete[1])
        let direct = try prn("merge", complete[0], complete[1])
        XCTAssertEqual(merged.stdout, direct.stdout)
    }

    /// Resuming with other `--set` values (or another shard) would mix two runs in one file.
    func testResumeWithAnotherRunIsRefused() throws {
        let first = try prn("run", "grid.prn", "--set", "scale=1", "--shard", "0/2", "--results", "r.jsonl")
        XCTAssertEqual(first.status, 0, first.stderr)
        let before = try read("r.jsonl")
        let changedSet = try prn("run", "grid.prn", "--set", "scale=2", "--shard", "0/2", "--results", "r.jsonl", "--resume")
        XCTAssertEqual(changedSet.status, 2)
        XCTAssertEqual(changedSet.stderrLines, [
            "error: --results r.jsonl: cannot resume: this run's set is 'scale=2' but the file was written with 'scale=1'; "
                + "resume with the same values or start a new results file"])
        let changedShard = try prn("run", "grid.prn", "--set", "scale=1", "--shard", "1/2", "--results", "r.jsonl", "--resume")
        XCTAssertEqual(changedShard.status, 2)
        XCTAssertTrue(changedShard.stderr.contains("this run's shard is '1/2' but the file was written with '0/2'"), changedShard.stderr)
        XCTAssertEqual(try read("r.jsonl"), before, "a refused resume leaves the file alone")
        let same = try prn("run", "grid.prn", "--set", "scale=1", "--shard", "0/2", "--results", "r.jsonl", "--resume")
        XCTAssertEqual(same.status, 0, same.stderr)
    }
}
