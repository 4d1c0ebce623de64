import XCTest
@testable import PrnLang

/// `run "other.prn"` beyond the golden scripts: paths, line numbers, seeds.
final class RunTests: XCTestCase {
    func testRelativePathsStartFromTheRunningScriptsFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("prn-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("sub"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "run \"sub/b.prn\"\n".write(to: folder.appendingPathComponent("a.prn"), atomically: true, encoding: .utf8)
        try "print \"in b\"\nrun \"c.prn\"\n".write(to: folder.appendingPathComponent("sub/b.prn"), atomically: true, encoding: .utf8)
        try "print \"in c\"\nx = nope\n".write(to: folder.appendingPathComponent("sub/c.prn"), atomically: true, encoding: .utf8)
        let result = Session().run("run \"a.prn\"", file: "<repl>", lineOffset: 4, directory: folder.path)
        XCTAssertEqual(result.stdout, ["in b", "in c"])
        XCTAssertEqual(result.stderr, ["sub/c.prn:2:5: error: unknown name 'nope'", "x = nope", "    ^",
                                       "run from sub/b.prn:2:1", "run from a.prn:1:1", "run from <repl>:5:1"])
    }

    func testSeedsDependOnTheRunStatementsPosition() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("prn-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "x = tensor rand [2]\n".write(to: folder.appendingPathComponent("draw.prn"), atomically: true, encoding: .utf8)
        let session = Session()
        session.run("run \"draw.prn\"\na = x\nrun \"draw.prn\"\nb = x", directory: folder.path)
        XCTAssertNotEqual(session.interpreter.workspace["a"]?.description, session.interpreter.workspace["b"]?.description)
        let again = Session()
        again.run("run \"draw.prn\"\na = x", directory: folder.path)
        XCTAssertEqual(again.interpreter.workspace["a"]?.description, session.interpreter.workspace["a"]?.description)
    }
}
