import Foundation
import XCTest

/// `prn run --jobs N`: worker processes run the units, and what the run shows and saves is the
/// serial run's; killed at any point, `--resume` finishes it with the same tables.
final class JobsTests: FolderTestCase {
    static let grid = """
        set timing off
        d = data synthetic classes=3 shape=[8] train=3000 test=100 seed=1
        t = table
        print "start"
        for a in [1, 2, 3] {
          for b in range(3) {
            r = train (model mlp widths=[64] data=d) data=d epochs=5
            print "unit \\(a) \\(b)"
            row t a=a b=b acc=r.test_acc loss=r.test_loss
          }
        }
        show t
        save t to "t.csv"
        """

    /// A notebook without the provenance lines that differ between runs (date, jobs).
    private func cells(_ name: String) throws -> String {
        try read(name).split(separator: "\n").filter { !$0.hasPrefix("| date |") && !$0.hasPrefix("| jobs |") }
            .joined(separator: "\n")
    }

    func testJobsShowAndSaveWhatTheSerialRunDoes() throws {
        try write("grid.prn", Self.grid)
        let serial = try PrnBinary.run(["run", "grid.prn", "--jobs", "1", "--notebook", "serial.md"], in: folder)
        XCTAssertEqual(serial.status, 0, serial.stderr)
        let serialCSV = try read("t.csv")
        let jobs = try PrnBinary.run(["run", "grid.prn", "--jobs", "3", "--notebook", "jobs.md"], in: folder)
        XCTAssertEqual(jobs.status, 0, jobs.stderr)
        XCTAssertEqual(jobs.stdout, serial.stdout)
        XCTAssertEqual(try read("t.csv"), serialCSV)
        XCTAssertEqual(try cells("jobs.md"), try cells("serial.md"))
        XCTAssertEqual(serial.stdout.components(separatedBy: "epoch 5/5").count - 1, 9)
    }

    func testKilledJobsResumeToTheSerialTables() throws {
        try write("grid.prn", Self.grid)
        let serial = try PrnBinary.run(["run", "grid.prn", "--jobs", "1"], in: folder)
        XCTAssertEqual(serial.status, 0, serial.stderr)
        let serialCSV = try read("t.csv")
        try FileManager.default.removeItem(at: folder.appendingPathComponent("t.csv"))
        let results = folder.appendingPathComponent("r.jsonl").path
        // Kill the whole run (coordinator first; workers die with it) after 1, 3 and 5 units.
        for units in [1, 3, 5] {
            let child = try PrnProcess(["run", "grid.prn", "--jobs", "2", "--results", "r.jsonl", "--resume"], directory: folder)
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline, child.process.isRunning {
                let text = (try? String(contentsOfFile: results, encoding: .utf8)) ?? ""
                if text.components(separatedBy: #""kind":"done""#).count - 1 >= units { break }
                usleep(5_000)
            }
            child.signal(SIGKILL)
            _ = child.finish()
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("t.csv").path))
        }
        let resumed = try PrnBinary.run(["run", "grid.prn", "--jobs", "2", "--results", "r.jsonl", "--resume"], in: folder)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try read("t.csv"), serialCSV)
        XCTAssertEqual(resumed.stdout.split(separator: "\n").suffix(10), serial.stdout.split(separator: "\n").suffix(10))
        let merged = try PrnBinary.run(["merge", "r.jsonl"], in: folder)
        XCTAssertEqual(merged.stdout.split(separator: "\n").suffix(9), serial.stdout.split(separator: "\n").suffix(9))
    }

    /// A unit that fails in a worker stops the run where the serial run stops, with its error.
    func testAFailingUnitStopsTheRunAsInTheSerialRun() throws {
        try write("fail.prn", """
            t = table
            for a in [1, 2, 3] {
              for b in [1, 2] {
                print "unit \\(a) \\(b)"
                if a == 2 { if b == 1 { x = nope } }
                row t a=a b=b
              }
            }
            print "never"
            """)
        let serial = try PrnBinary.run(["run", "fail.prn", "--jobs", "1"], in: folder)
        let jobs = try PrnBinary.run(["run", "fail.prn", "--jobs", "2"], in: folder)
        XCTAssertEqual(serial.status, 1)
        XCTAssertEqual(jobs.status, 1)
        XCTAssertEqual(jobs.stdout, serial.stdout)
        XCTAssertEqual(jobs.stderr, serial.stderr)
        XCTAssertEqual(serial.stdoutLines, ["unit 1 1", "unit 1 2", "unit 2 1"])
    }
}
