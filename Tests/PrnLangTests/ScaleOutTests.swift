import XCTest
@testable import PrnLang
import PrnNotebook

/// Sharding, results files, resuming and merging: shards of a grid make exactly the rows (and
/// draw exactly the numbers) of the unsharded run.
final class ScaleOutTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("prn-shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// A tiny grid: arithmetic and a derived-seed draw per cell, rows outside loops too.
    static let grid = """
        scale = 10
        t = table
        log = table
        row log event="start"
        for a in [1, 2, 3, 4, 5] {
          for b in range(3) {
            r = tensor rand [1]
            row t a=a b=b y=(a * scale + b) draw=(r.count) seedcheck="\\(tensor rand [2])"
          }
          row log a=a
        }
        row log event="end"
        for c in range(3) { row t c=c }
        """

    private func run(_ source: String = grid, shard: (Int, Int)? = nil, results: String? = nil, resume: Bool = false,
                     overrides: [String: Value] = [:]) throws -> Session {
        let session = Session()
        let writer = try results.map { try ResultsWriter(path: folder.appendingPathComponent($0).path,
                                                         header: ["script": "grid"], resume: resume) }
        session.interpreter.scaleOut = ScaleOut(shardIndex: shard?.0 ?? 0, shardCount: shard?.1 ?? 1, results: writer)
        let result = session.run(source, overrides: overrides)
        XCTAssertEqual(result.outcome, .ok, result.stderr.joined(separator: "\n"))
        return session
    }

    private func table(_ session: Session, _ name: String) -> Table? {
        session.interpreter.workspace[name]?.table
    }

    private func merged(_ files: [String]) throws -> [String: Table] {
        let records = try files.map { try Results.read(folder.appendingPathComponent($0).path) }
        return Dictionary(uniqueKeysWithValues: Results.merge(records).map { ($0.name, $0.table) })
    }

    func testTwoShardsMergedEqualTheUnshardedRun() throws {
        let full = try run(results: "full.jsonl")
        let shard0 = try run(shard: (0, 2), results: "s0.jsonl")
        let shard1 = try run(shard: (1, 2), results: "s1.jsonl")
        // Each shard ran only its iterations of the outermost loops.
        XCTAssertEqual(table(shard0, "t")?.column("a")?.compactMap(\.number).filter { $0 > 0 }, [1, 1, 1, 3, 3, 3, 5, 5, 5])
        XCTAssertEqual(table(shard1, "t")?.column("a")?.compactMap(\.number), [2, 2, 2, 4, 4, 4])
        let shards = try merged(["s1.jsonl", "s0.jsonl"])
        let unsharded = try merged(["full.jsonl"])
        for name in ["t", "log"] {
            let expected = table(full, name)
            XCTAssertEqual(shards[name]?.columns, expected?.columns, name)
            XCTAssertEqual(shards[name]?.rows, expected?.rows, name)
            XCTAssertEqual(unsharded[name]?.rows, expected?.rows, name)
        }
        XCTAssertEqual(table(full, "t")?.rows.count, 18)
    }

    func testResumeSkipsFinishedIterationsAndRestoresTheirRows() throws {
        let path = folder.appendingPathComponent("r.jsonl").path
        let complete = try run(results: "r.jsonl")
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        // Cut the file inside the third iteration of the first loop, as a preempted job would.
        guard let cut = lines.firstIndex(where: { $0.contains(#""iteration":2,"index":1"#) }) else { return XCTFail("no such row") }
        try (lines[..<cut].joined(separator: "\n") + "\n{\"kind\":\"row\",\"tab").write(toFile: path, atomically: true, encoding: .utf8)
        let resumed = try run(results: "r.jsonl", resume: true)
        XCTAssertEqual(table(resumed, "t")?.rows, table(complete, "t")?.rows)
        XCTAssertEqual(table(resumed, "log")?.rows, table(complete, "log")?.rows)
        let again = try merged(["r.jsonl"])
        XCTAssertEqual(again["t"]?.rows, table(complete, "t")?.rows)
        XCTAssertEqual(again["log"]?.rows, table(complete, "log")?.rows)
        // Iterations 0 and 1 of the first loop were not run again.
        XCTAssertEqual(resumed.interpreter.workspace["a"]?.description, "5")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(text.components(separatedBy: #""kind":"done","phase":1,"iteration":0"#).count, 2)
    }

    func testOverridesReplaceTheFirstTopLevelAssignment() throws {
        let session = try run("x = 1\nx = 2\nprint x\nfor i in [1] { y = 3 }\ny = 4", overrides: ["x": .int(10), "y": .int(40)])
        XCTAssertEqual(session.capture.stdout, ["2"])
        // The loop's `y = 3` is not top-level: the override replaces `y = 4`.
        XCTAssertEqual(session.interpreter.workspace["y"]?.description, "40")
        let first = try run("x = 1\nprint x", overrides: ["x": .int(10)])
        XCTAssertEqual(first.capture.stdout, ["10"])
        XCTAssertEqual(Interpreter.topLevelAssignments(in: "a = 1\nfor i in [1] { b = 2 }\nc = 3"), ["a", "c"])
        XCTAssertNil(Interpreter.topLevelAssignments(in: "a = 1\nb = (2 +\n"))
    }

    func testOverrideValuesReadBareWordsAsSymbols() throws {
        XCTAssertEqual(try Interpreter.overrideValue("0.01").description, "0.01")
        XCTAssertEqual(try Interpreter.overrideValue("snip").description, "snip")
        XCTAssertEqual(try Interpreter.overrideValue("[random, snip]").description, "[random, snip]")
        XCTAssertEqual(try Interpreter.overrideValue("\"a b\"").description, "\"a b\"")
        XCTAssertEqual(try Interpreter.overrideValue("2 * 3").description, "6")
        XCTAssertThrowsError(try Interpreter.overrideValue("1 2"))
        XCTAssertThrowsError(try Interpreter.overrideValue(""))
        XCTAssertThrowsError(try Interpreter.overrideValue("[1,"))
    }

    func testShardsDrawWhatTheFullRunDraws() throws {
        let source = "t = table\nfor i in range(4) {\n  x = tensor randn [3]\n  row t i=i x=\"\\(x)\"\n}"
        let full = try run(source)
        let odd = try run(source, shard: (1, 2))
        let fullRows = table(full, "t")?.rows ?? []
        XCTAssertEqual(table(odd, "t")?.rows, [fullRows[1], fullRows[3]])
    }

    /// A loop whose body is exactly one loop counts with it: `a × b` units, numbered in serial order.
    func testIterationsOfALoopNestAreTheUnits() throws {
        let source = """
            t = table
            for a in [1, 2] {
              for b in range(3) {
                for c in range(2) { x = c }
                row t a=a b=b r="\\(tensor rand [1])"
              }
            }
            for c in range(2) { row t c=c }
            """
        let full = try run(source, results: "full.jsonl")
        let shard = try run(source, shard: (0, 2))
        let rows = table(full, "t")?.rows ?? []
        // Units 0, 2, 4 of the nest (a, b) = (1, 0), (1, 2), (2, 1), then unit 0 of the second loop.
        XCTAssertEqual(table(shard, "t")?.rows, [rows[0], rows[2], rows[4], rows[6]])
        let text = try String(contentsOfFile: folder.appendingPathComponent("full.jsonl").path, encoding: .utf8)
        XCTAssertEqual(text.components(separatedBy: #""kind":"done","phase":1,"#).count - 1, 6)
        XCTAssertTrue(text.contains(#""kind":"done","phase":3,"iteration":1"#))
    }

    func testTheQuickReproductionHasFortyFiveUnitsInItsGrid() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/reproduce/singh-liu-quick.prn")
        var lexer = Lexer(try String(contentsOf: script, encoding: .utf8))
        var parser = Parser(tokens: lexer.scan(), commands: .standard)
        let loops = parser.parse().compactMap { statement -> ForLoop? in
            if case .forLoop(let loop) = statement { return loop }
            return nil
        }
        XCTAssertEqual(loops.map(ScaleOut.depth(of:)), [3, 1])
    }
}
