import Foundation
import XCTest

/// Logs that are there: output reaches a pipe line by line while a run is still going, and a
/// signal stops `prn run` with its notebook and results written and the status saying which.
final class SignalTests: FolderTestCase {
    /// Unit 0 finishes; unit 1 prints, records a row, then spins until a signal stops it.
    static let script = """
        t = table
        for a in range(3) {
          row t a=a
          print "unit \\(a)"
          if a == 1 {
            for i in range(1000000) {
              for j in range(1000000) { x = j }
            }
          }
        }
        """

    func testStdoutReachesAPipeLineByLineAndSIGTERMWritesTheNotebookAndResults() throws {
        try stop(with: SIGTERM, status: 143, name: "SIGTERM", jobs: "1")
        try stop(with: SIGTERM, status: 143, name: "SIGTERM", jobs: "2")
    }

    func testSIGINTAndSIGHUPStopTheRunTheSameWay() throws {
        try stop(with: SIGINT, status: 130, name: "SIGINT", jobs: "1")
        try stop(with: SIGHUP, status: 129, name: "SIGHUP", jobs: "2")
    }

    /// With two jobs, unit 1 is the one the coordinator waits for, so its line is shown live too.
    private func stop(with signal: Int32, status expected: Int32, name: String, jobs: String) throws {
        try write("spin.prn", Self.script)
        let child = try PrnProcess(["run", "spin.prn", "--notebook", "spin.md", "--results", "r.jsonl", "--jobs", jobs],
                                   directory: folder)
        // The script never ends by itself: these lines can only have come while it runs.
        XCTAssertEqual(child.nextLine(), "unit 0")
        XCTAssertEqual(child.nextLine(), "unit 1")
        child.signal(signal)
        let (status, stderr) = child.finish()
        XCTAssertEqual(status, expected, stderr)
        XCTAssertTrue(stderr.contains("spin.prn: interrupted by \(name)"), stderr)

        let notebook = try read("spin.md")
        XCTAssertTrue(notebook.contains("unit 0"), notebook)
        XCTAssertTrue(notebook.contains("unit 1"), notebook)
        XCTAssertTrue(notebook.contains("interrupted by \(name)"), notebook)
        XCTAssertFalse(notebook.contains("unit 2"), notebook)

        let results = try read("r.jsonl")
        XCTAssertTrue(results.contains(#""kind":"done","phase":1,"iteration":0"#), results)
        XCTAssertFalse(results.contains(#""kind":"done","phase":1,"iteration":1"#), results)
        XCTAssertTrue(results.contains(#""row":{"a":1}"#), results)
    }
}
