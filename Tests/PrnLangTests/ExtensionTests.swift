import XCTest
@testable import PrnLang

/// How a later layer extends the language: a value type of its own, with fields, and commands
/// that make and take it — declared once, in a table of their own.
final class ExtensionTests: XCTestCase {
    struct Counter: LangObject, ArgumentValue {
        static let typeName = "counter"
        static let fields: [Field] = [
            .of(Counter.self, "value", "the current count") { .int($0.value) },
        ]
        let value: Int
        var size: String { "1" }
        var description: String { "counter(\(value))" }
    }

    static let commands = CommandTable(Commands.all + [
        Command("counter", summary: "A counter starting at `start`.", example: "c = counter start=3") { p in
            let start = p.keyword("start", default: 0, help: "the first value")
            return { args, _ in .object(Counter(value: args[start])) }
        },
        Command("bump", summary: "A new counter, one higher.", example: "bump c") { p in
            let counter = p.positional("c", Counter.self, type: .object(Counter.self, name: "counter", placeholder: "COUNTER"),
                                       help: "the counter")
            return { args, _ in .object(Counter(value: args[counter].value + 1)) }
        },
    ])

    func testObjectsCommandsAndFields() {
        let session = Session(commands: Self.commands)
        let result = session.run("""
            c = counter start=3
            d = bump c
            print c.value
            print d.value
            d
            vars
            bump 3
            """)
        XCTAssertEqual(result.stdout, ["3", "4", "counter(4)", "name  type     size", "c     counter  1", "d     counter  1"])
        XCTAssertEqual(result.stderr.first, "<test>:7:6: error: 'c' expects a counter, got int")
        XCTAssertEqual(session.run("print c.valeu").stderr.first,
                       "<test>:1:9: error: counter has no field 'valeu'; did you mean 'value'? (fields: value)")
        XCTAssertEqual(session.interpreter.completions(before: "", word: "c.v"), ["c.value"])
        XCTAssertTrue(Self.commands.markdownReference.contains("### `bump`"))
    }
}
