import XCTest
@testable import PrnLang
import PrnNotebook
import PrnPrune

/// Tables: summaries, file formats (written by `save` and read back), JSON.
final class TableTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("prn-tables-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    static let grid = """
        t = table title="grid"
        for method in [random, snip] {
          for seed in range(2) {
            row t method=method seed=seed acc=(0.5 + seed / 4) note="a, \\"b\\""
          }
        }
        """

    func testSaveWritesEachFormatAndReadsBack() throws {
        let session = Session()
        session.run(Self.grid)
        for ext in ["csv", "md", "jsonl"] {
            let result = session.run("save t to \"\(folder.appendingPathComponent("t.\(ext)").path)\"")
            XCTAssertEqual(result.outcome, .ok, result.stderr.joined(separator: "\n"))
        }
        let csv = try String(contentsOf: folder.appendingPathComponent("t.csv"), encoding: .utf8)
        XCTAssertEqual(csv, """
            method,seed,acc,note
            random,0,0.5,"a, ""b\"""
            random,1,0.75,"a, ""b\"""
            snip,0,0.5,"a, ""b\"""
            snip,1,0.75,"a, ""b\"""

            """)
        let markdown = try String(contentsOf: folder.appendingPathComponent("t.md"), encoding: .utf8)
        XCTAssertEqual(markdown.split(separator: "\n", omittingEmptySubsequences: false).prefix(5).map(String.init),
                       ["**grid**", "", "| method | seed | acc | note |", "| --- | ---: | ---: | --- |", "| random | 0 | 0.50 | a, \"b\" |"])
        let lines = try String(contentsOf: folder.appendingPathComponent("t.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(String(lines[1]), #"{"method":"random","seed":1,"acc":0.75,"note":"a, \"b\""}"#)
        let back = try JSON.parse(String(lines[1]))
        XCTAssertEqual(back["seed"], .int(1))
        XCTAssertEqual(back["acc"], .number(0.75))
        XCTAssertEqual(session.run("save t to \"\(folder.appendingPathComponent("t.txt").path)\"").outcome, .failed)
    }

    func testFullPrecisionInDataFilesFourDecimalsOnScreen() {
        let table = Table(columns: ["x"], rows: [[.number(1.0 / 3)], [.number(0.25)]])
        XCTAssertEqual(table.csv, "x\n0.3333333333333333\n0.25\n")
        XCTAssertEqual(table.text, "     x\n0.3333\n0.2500")
        XCTAssertEqual(Table(columns: ["x"], rows: [[.number(0.99999)], [.number(0.5)]]).text, "      x\n0.99999\n0.50000")
    }

    func testMeanUsesSampleStandardDeviation() throws {
        let t = Table(columns: ["m", "seed", "acc"],
                      rows: [[.text("a"), .int(0), .number(1)], [.text("a"), .int(1), .number(2)], [.text("a"), .int(2), .number(4)]])
        let mean = try t.mean(over: "seed", values: ["acc"])
        XCTAssertEqual(mean.columns, ["m", "acc", "n"])
        // mean 7/3, sample variance ((−4/3)² + (−1/3)² + (5/3)²) / 2 = 7/3, std 1.5275
        XCTAssertEqual(mean.rows, [[.text("a"), .text("2.3333 ± 1.5275"), .int(3)]])
    }

    func testPivotKeepsFirstAppearanceOrderAndMarksGaps() throws {
        let t = Table(columns: ["k", "p", "v"], rows: [
            [.text("b"), .text("y"), .int(1)], [.text("a"), .text("x"), .int(2)], [.text("b"), .text("x"), .int(3)],
        ])
        let p = try t.pivot(on: "p", value: "v")
        XCTAssertEqual(p.columns, ["k", "y", "x"])
        XCTAssertEqual(p.rows, [[.text("b"), .int(1), .int(3)], [.text("a"), .missing, .int(2)]])
        XCTAssertThrowsError(try t.pivot(on: "nope", value: "v"))
        XCTAssertThrowsError(try t.pivot(on: "p", value: "p"))
    }

    func testRowsOfOtherLengthsAreFittedToTheColumns() {
        let t = Table(columns: ["a", "b"], rows: [[.int(1)], [.int(1), .int(2), .int(3)]])
        XCTAssertEqual(t.rows, [[.int(1), .missing], [.int(1), .int(2)]])
        XCTAssertEqual(t.text, "a  b\n1  —\n1  2")
    }

    func testJSONRoundTripKeepsKeyOrderAndTypes() throws {
        let value = JSON.object([("z", .int(1)), ("a", .number(2.5)), ("s", .string("x\n\"y\"\u{1}")), ("n", .null),
                                 ("l", .array([.bool(true), .number(3)]))])
        let text = value.serialized
        XCTAssertEqual(text, #"{"z":1,"a":2.5,"s":"x\n\"y\"\u0001","n":null,"l":[true,3.0]}"#)
        XCTAssertEqual(try JSON.parse(text), value)
        XCTAssertThrowsError(try JSON.parse(#"{"a":1"#))
        XCTAssertThrowsError(try JSON.parse(String(repeating: "[", count: 1000)))
        XCTAssertEqual(try JSON.parse(#""\u00e9""#), .string("é"))
    }

    func testColumnsAsFieldsAndCompletion() {
        let session = Session()
        session.run(Self.grid)
        XCTAssertEqual(session.run("print t.seed").stdout, ["[0, 1, 0, 1]"])
        XCTAssertEqual(session.run("print t.rows").stdout, ["4"])
        XCTAssertEqual(session.run("print t.sed").stderr.first,
                       "<test>:1:9: error: table has no field 'sed'; did you mean 'seed'? (fields: rows, columns, method, seed, acc, note)")
        let i = session.interpreter
        XCTAssertEqual(i.completions(before: "print ", word: "t.a"), ["t.acc"])
        XCTAssertEqual(i.completions(before: "show t ", word: "p"), ["pivot="])
        XCTAssertEqual(i.completions(before: "show t pivot=", word: ""), ["acc", "method", "note", "seed"])
        XCTAssertEqual(i.completions(before: "row t ", word: "s"), ["seed="])
    }
}
