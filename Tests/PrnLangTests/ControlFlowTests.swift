import XCTest
@testable import PrnLang

/// Loops and conditionals beyond what golden scripts show: interrupts, deep nesting, the
/// loop-variable rules.
final class ControlFlowTests: XCTestCase {
    /// A command that presses Ctrl-C when its argument reaches a value.
    static let commands = CommandTable(Commands.all + [
        Command("ctrlc", summary: "Request an interrupt when n == at.", example: "ctrlc 1") { p in
            let n = p.positional("n", Int.self, help: "the value")
            let at = p.keyword("at", default: 3, help: "when")
            return { args, _ in
                if args[n] == args[at] { Interrupt.request() }
                return .none
            }
        },
    ])

    func testCtrlCStopsALoopBetweenIterationsAndKeepsTheWorkspace() {
        defer { Interrupt.clear() }
        let session = Session(commands: Self.commands)
        session.run("x = 1")
        let result = session.run("for i in range(1000000000) {\n  last = i\n  ctrlc i\n}\nprint \"after\"")
        XCTAssertEqual(result.outcome, .interrupted)
        XCTAssertEqual(result.stdout, [])
        Interrupt.clear()
        XCTAssertEqual(session.run("print last\nprint x").stdout, ["3", "1"])
    }

    func testBlocksNestDeeplyButBoundedly() {
        let depth = 200
        let deep = String(repeating: "for i in range(1) {\n", count: depth) + "print \"bottom\"\n" + String(repeating: "}\n", count: depth)
        XCTAssertEqual(Session().run(deep).stdout, ["bottom"])
        let tooDeep = String(repeating: "if true {\n", count: 300) + String(repeating: "}\n", count: 300)
        XCTAssertEqual(Session().run(tooDeep).stderr.first, "<test>:257:9: error: nested too deeply (limit 256 levels)")
    }

    func testLoopVariableIsBoundToSymbolsOnlyForUnboundNames() {
        let session = Session()
        session.run("for m in [random, snip] { last = m }")
        guard case .symbol("snip")? = session.interpreter.workspace["last"] else {
            return XCTFail("expected the symbol snip, got \(String(describing: session.interpreter.workspace["last"]))")
        }
        session.run("random = 5\nfor m in [random] { last = m }")
        XCTAssertEqual(session.interpreter.workspace["last"]?.description, "5")
    }

    func testFailedStatementInALoopStopsItKeepingEarlierBindings() {
        let session = Session()
        let result = session.run("for i in [1, 2, 0, 4] {\n  y = 6 / i\n  z = (tensor zeros [i]).count\n  bad = [i, nope]\n}")
        XCTAssertEqual(result.outcome, .failed)
        XCTAssertEqual(result.stderr.first, "<test>:4:13: error: unknown name 'nope'")
        XCTAssertEqual(session.run("print i\nprint z").stdout, ["1", "1"])
        XCTAssertNil(session.interpreter.workspace["bad"])
    }

    func testIfConditionIsEvaluatedOnce() {
        let session = Session()
        let result = session.run("if (vars) { }")
        XCTAssertEqual(result.stdout, ["(no variables)"])
        XCTAssertEqual(result.stderr.first, "<test>:1:5: error: 'if' needs true or false, got none")
    }

    func testStepBudgetStopsRunawayLoops() {
        let session = Session()
        session.interpreter.budget = Budget(steps: 100)
        let result = session.run("for i in range(1000000) { x = i }")
        XCTAssertEqual(result.outcome, .failed)
        XCTAssertEqual(result.stderr.first, "<test>:1:27: error: step budget exhausted")
    }
}
