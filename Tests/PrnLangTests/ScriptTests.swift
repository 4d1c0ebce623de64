import XCTest
@testable import PrnLang

/// Golden scripts: every `Tests/Scripts/<feature>/*.prn` runs in-process as `prn run` would, and
/// what it prints must match the expectations written in its comments (grammar.md, "Golden
/// tests"):
///
/// - `# expect: TEXT` — the next line of standard output is TEXT.
/// - `# error: LINE:COL: MESSAGE` — the next diagnostic's first line is `FILE:LINE:COL: error: MESSAGE`.
/// - `# note: TEXT` — right after an `# error:`, a line that diagnostic prints after its caret.
/// - `# skip: REASON` — the script is not run.
///
/// A diagnostic about another file (an error inside `run "lib.prn"`) keeps its file name:
/// `# error: run/_lib.prn:2:5: MESSAGE`. Scripts run with their own folder as the directory
/// `run` resolves paths against; files whose names start with `_` are helpers for `run`, not tests.
/// Files a script writes (relative names) go to a temporary current directory, removed after.
///
/// Output must match exactly and completely. The run fails (exit 1) exactly when there are
/// `# error:` lines. Each script runs twice in fresh interpreters and must print the same both
/// times: derived seeds make reruns reproducible.
final class ScriptTests: XCTestCase {
    static let scripts = repositoryRoot.appendingPathComponent("Tests/Scripts").resolvingSymlinksInPath()

    struct Expectations {
        var stdout: [String] = []
        var diagnostics: [[String]] = []
        var skip: String?
    }

    func testGoldenScripts() throws {
        let files = try scriptFiles()
        XCTAssertGreaterThan(files.count, 10, "no golden scripts found in \(Self.scripts.path)")
        for file in files {
            let name = String(file.path.dropFirst(Self.scripts.path.count + 1))
            let source = try String(contentsOf: file, encoding: .utf8)
            let expected = Self.expectations(in: source)
            if expected.skip != nil { continue }
            let directory = file.deletingLastPathComponent().path
            let first = try inScratchFolder { _ in Session().run(source, file: name, directory: directory) }
            let actual = Self.diagnostics(first.stderr, file: name)
            XCTAssertEqual(first.stdout, expected.stdout, "\(name): standard output")
            XCTAssertEqual(actual, expected.diagnostics, "\(name): diagnostics")
            XCTAssertEqual(first.outcome, expected.diagnostics.isEmpty ? .ok : .failed, "\(name): outcome")
            let second = try inScratchFolder { _ in Session().run(source, file: name, directory: directory) }
            XCTAssertEqual(second.stdout, first.stdout, "\(name): a rerun printed something else")
        }
        XCTAssertEqual(try scriptFiles(), files, "a golden script wrote into Tests/Scripts")
    }

    private func scriptFiles() throws -> [URL] {
        guard let enumerator = FileManager.default.enumerator(at: Self.scripts, includingPropertiesForKeys: nil) else {
            return []
        }
        return enumerator.compactMap { $0 as? URL }.map { $0.resolvingSymlinksInPath() }
            .filter { $0.pathExtension == "prn" && !$0.lastPathComponent.hasPrefix("_") }
            .sorted { $0.path < $1.path }
    }

    static func expectations(in source: String) -> Expectations {
        var result = Expectations()
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let hash = line.firstIndex(of: "#") else { continue }
            let comment = line[line.index(after: hash)...].drop { $0 == " " }
            if let text = value(of: "expect:", in: comment) {
                result.stdout.append(text)
            } else if let text = value(of: "error:", in: comment) {
                result.diagnostics.append([text])
            } else if let text = value(of: "note:", in: comment), !result.diagnostics.isEmpty {
                result.diagnostics[result.diagnostics.count - 1].append(text)
            } else if let text = value(of: "skip:", in: comment) {
                result.skip = text
            }
        }
        return result
    }

    /// The text after `tag` and one space; the rest of the line is kept exactly.
    private static func value(of tag: String, in comment: Substring) -> String? {
        guard comment.hasPrefix(tag) else { return nil }
        let rest = comment.dropFirst(tag.count)
        return String(rest.first == " " ? rest.dropFirst() : rest)
    }

    /// Diagnostics as `[first line without "FILE:" and "error: ", notes…]`, dropping the source
    /// line and caret. A diagnostic about another file keeps that file's name.
    static func diagnostics(_ lines: [String], file: String) -> [[String]] {
        var result: [[String]] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            guard line.range(of: #"^\S+:\d+:\d+: error: "#, options: .regularExpression) != nil else {
                if !result.isEmpty { result[result.count - 1].append(line) } else { result.append([line]) }
                index += 1
                continue
            }
            var first = line.hasPrefix(file + ":") ? String(line.dropFirst(file.count + 1)) : line
            if let tag = first.range(of: " error: ") { first.replaceSubrange(tag, with: " ") }
            result.append([first])
            index += 1
            // The source line and the caret line.
            if index + 1 < lines.count, lines[index + 1].trimmingCharacters(in: .whitespaces) == "^" { index += 2 }
        }
        return result
    }
}
