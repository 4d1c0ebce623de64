import XCTest
@testable import PrnLang

/// Tab completion of keywords, file paths inside strings, and `run`.
final class CompletionTests: XCTestCase {
    func testKeywordsAtStatementStartAndInLoops() {
        let i = Session().interpreter
        XCTAssertEqual(i.completions(before: "", word: "f"), ["for"])
        XCTAssertEqual(i.completions(before: "", word: "i"), ["if"])
        XCTAssertEqual(i.completions(before: "for x ", word: ""), ["in"])
        XCTAssertEqual(i.completions(before: "for x in ", word: "ra"), ["range"])
        XCTAssertEqual(i.completions(before: "if true { print 1 } ", word: "el"), ["else"])
        XCTAssertEqual(i.completions(before: "for x in [1] { ", word: "pri"), ["print"])
        XCTAssertEqual(i.completions(before: "for x in [1] { tensor ", word: "ze"), ["zeros"])
    }

    func testFilePathsInsideStrings() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("prn-complete-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("scripts"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["scripts/grid.prn", "scripts/grid2.prn", "setup.prn", ".hidden"] {
            try "".write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let base = folder.path
        XCTAssertEqual(Interpreter.pathCompletions(typed: "", word: "s", directory: base), ["scripts/", "setup.prn"])
        XCTAssertEqual(Interpreter.pathCompletions(typed: "scripts/", word: "g", directory: base), ["grid.prn", "grid2.prn"])
        // libedit breaks words at '-' too: the word is the end of what was typed in the string.
        XCTAssertEqual(Interpreter.pathCompletions(typed: "scr", word: "", directory: base), ["ipts/"])
        XCTAssertEqual(Interpreter.pathCompletions(typed: base + "/se", word: "", directory: "/"), ["tup.prn"])
        XCTAssertEqual(Interpreter.pathCompletions(typed: "", word: ".h", directory: base), [".hidden"])
        XCTAssertEqual(Interpreter.pathCompletions(typed: "nowhere/", word: "", directory: base), [])
        XCTAssertEqual(Interpreter.openString(#"run "scripts/g"#), "scripts/g")
        XCTAssertNil(Interpreter.openString(#"run "a.prn" "#))
        XCTAssertEqual(Interpreter.openString(#"x = "a\"b"#), "a\"b")
        XCTAssertNil(Interpreter.openString(#"x = 1 # "comment"#))
        XCTAssertTrue(Interpreter.isInsideString(#"save t to ""#))
    }
}
