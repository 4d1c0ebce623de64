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
            // Not atomically: grammar.md may be a symbolic link into another checkout.
            try text.replacingCharacters(in: start.upperBound..<stop.lowerBound, with: rendered)
                .write(to: url, atomically: false, encoding: .utf8)
            return
        }
        XCTAssertEqual(current, rendered, "grammar.md's Commands section is stale: run the tests with PRN_UPDATE_GRAMMAR=1")
    }

    /// Examples that read data sets the machine may not have (DESIGN: MNIST and CIFAR-10 are the
    /// user's files); where the files are missing they must fail with the missing-files hint.
    static let needsExternalData: Set<String> = ["data mnist", "data cifar10"]

    /// Names the examples may use; each line runs on its own, and one that fails (a command not
    /// declared yet) is skipped.
    static let prelude = [
        "a = tensor [1, 2]", "b = 3",
        "t = table", "row t method=snip ablation=original seed=0 acc=0.9", "row t method=snip ablation=shuffle seed=0 acc=0.8",
        "all = table",
        "d = data synthetic classes=3 shape=[20] train=60 test=30", "m = model mlp widths=[8] data=d seed=1",
        "r = train m data=d epochs=1",
    ]

    func testEveryExampleRuns() throws {
        // Examples that write files (`save … to "x"`) write them there, and later ones read them back.
        try inScratchFolder { folder in
            try "x = 1\n".write(to: folder.appendingPathComponent("setup.prn"), atomically: true, encoding: .utf8)
            for command in CommandTable.standard.commands {
                let session = Session()
                for line in Self.prelude { session.run(line) }
                let result = session.run(command.example, file: "<example>", directory: folder.path)
                if Self.needsExternalData.contains(command.name), result.outcome == .failed {
                    // Only the files' absence may stop these, with its hint; anything else is a bug.
                    XCTAssertTrue(result.stderr.first?.contains(": no ") == true && result.stderr.first?.contains(" or pass path=DIR") == true,
                                  "example of '\(command.name)': \(result.stderr.joined(separator: "\n"))")
                    continue
                }
                XCTAssertEqual(result.outcome, .ok, "example of '\(command.name)': \(result.stderr.joined(separator: "\n"))")
            }
        }
    }
}
