import XCTest
@testable import PrnLang

/// grammar.md's command reference must be the rendering of the command declarations.
/// Run with `PRN_UPDATE_GRAMMAR=1` to rewrite that section from the declarations.
final class GrammarTests: XCTestCase {
    static let begin = "<!-- BEGIN COMMANDS: generated from the declarations by CommandTable.markdownReference; do not edit -->"
    static let end = "<!-- END COMMANDS -->"

    func testCommandReferenceMatchesDeclarations() throws {
        let url = repositoryRoot.appendingPathComponent("grammar.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        guard let start = text.range(of: Self.begin), let stop = text.range(of: Self.end), start.upperBound <= stop.lowerBound else {
            return XCTFail("grammar.md has no generated Commands section between the markers")
        }
        let current = String(text[start.upperBound..<stop.lowerBound])
        let rendered = "\n\n" + CommandTable.standard.markdownReference
        if ProcessInfo.processInfo.environment["PRN_UPDATE_GRAMMAR"] != nil {
            try text.replacingCharacters(in: start.upperBound..<stop.lowerBound, with: rendered)
                .write(to: url, atomically: true, encoding: .utf8)
            return
        }
        XCTAssertEqual(current, rendered, "grammar.md's Commands section is stale: run the tests with PRN_UPDATE_GRAMMAR=1")
    }

    func testEveryExampleRuns() {
        for command in CommandTable.standard.commands {
            let session = Session()
            session.run("a = tensor [1, 2]\nb = 3")   // names the examples may use
            let result = session.run(command.example, file: "<example>")
            XCTAssertEqual(result.outcome, .ok, "example of '\(command.name)': \(result.stderr.joined(separator: "\n"))")
        }
    }
}
