import XCTest
@testable import PrnLang

final class ParserTests: XCTestCase {
    private func parse(_ source: String) -> ([Stmt], [Diagnostic]) {
        var lexer = Lexer(source)
        var parser = Parser(tokens: lexer.scan())
        let statements = parser.parse()
        return (statements, parser.diagnostics)
    }

    /// A compact rendering of the tree, for assertions.
    private func show(_ source: String) -> String {
        let (statements, diagnostics) = parse(source)
        XCTAssertEqual(diagnostics, [], source)
        return statements.map(show).joined(separator: "; ")
    }

    private func show(_ statement: Stmt) -> String {
        switch statement {
        case .expression(let e): return show(e)
        case .assign(let name, let e): return "\(name.lexeme) = \(show(e))"
        case .print(_, let e): return "print \(show(e))"
        }
    }

    private func show(_ expr: Expr) -> String {
        switch expr {
        case .literal(let v, _): return v.description
        case .name(let t): return t.lexeme
        case .list(_, let items): return "[" + items.map(show).joined(separator: ", ") + "]"
        case .unary(let op, let e): return "(\(op.lexeme)\(op.kind == .not ? " " : "")\(show(e)))"
        case .binary(let l, let op, let r): return "(\(show(l)) \(op.lexeme) \(show(r)))"
        case .field(let e, let name): return "\(show(e)).\(name.lexeme)"
        case .command(let call):
            let args = call.arguments.map { a in (a.label.map { "\($0.lexeme)=" } ?? "") + show(a.value) }
            return "{" + ([call.command.name] + args).joined(separator: " ") + "}"
        }
    }

    func testPrecedence() {
        XCTAssertEqual(show("1 + 2 * 3 - 4"), "((1 + (2 * 3)) - 4)")
        XCTAssertEqual(show("a @ b + c"), "((a @ b) + c)")
        XCTAssertEqual(show("-a.shape"), "(-a.shape)")
        XCTAssertEqual(show("(a + b) * c"), "((a + b) * c)")
        XCTAssertEqual(show("a < b + 1 and not c or d"), "(((a < (b + 1)) and (not c)) or d)")
        XCTAssertEqual(show("x = 1 / 2 / 4"), "x = ((1 / 2) / 4)")
    }

    func testCommandsAndForms() {
        XCTAssertEqual(show("tensor zeros [2, 3]"), "{tensor zeros [2, 3]}")
        XCTAssertEqual(show("a = tensor randn [64, 32] seed=1"), "a = {tensor randn [64, 32] seed=1}")
        XCTAssertEqual(show("tensor [[1, 2], [3, 4]]"), "{tensor [[1, 2], [3, 4]]}")
        XCTAssertEqual(show("tensor rand [2] low=-1 high=1"), "{tensor rand [2] low=(-1) high=1}")
        XCTAssertEqual(show("set seed 3"), "{set seed 3}")
        XCTAssertEqual(show("vars"), "{vars}")
        XCTAssertEqual(show("help tensor rand"), "{help tensor rand}")
        XCTAssertEqual(show("help print"), "{help print}")
    }

    func testParenthesizedCommandsAndCallForm() {
        XCTAssertEqual(show("print (a @ b).shape"), "print (a @ b).shape")
        XCTAssertEqual(show("x = (tensor ones [2]) + 1"), "x = ({tensor ones [2]} + 1)")
        XCTAssertEqual(show("tensor(zeros, [2, 3]).shape"), "{tensor zeros [2, 3]}.shape")
        XCTAssertEqual(show("tensor(randn, [2], seed=4)"), "{tensor randn [2] seed=4}")
        XCTAssertEqual(show("tensor (t)"), "{tensor t}")
    }

    func testStatementSeparators() {
        XCTAssertEqual(show("a = 1; b = 2\n\nprint a"), "a = 1; b = 2; print a")
        XCTAssertEqual(show("x = [1,\n  2,\n]"), "x = [1, 2]")
    }

    func testUnknownCommandSuggests() {
        let (_, errors) = parse("tenzor zeros [2]")
        XCTAssertEqual(errors.map(\.description), ["1:1: error: unknown command 'tenzor'; did you mean 'tensor'?"])
    }

    func testSynchronizesAndReportsEveryError() {
        let (statements, errors) = parse("a = 1 +\nb = 2\nc = ]\nd = (4")
        XCTAssertEqual(errors.map(\.description), ["1:8: error: expected an expression, found end of line",
                                                   "3:5: error: expected an expression, found ']'",
                                                   "4:7: error: expected ')' to close the '(' at 4:5, found end of input"])
        XCTAssertEqual(statements.count, 1)   // b = 2
    }

    func testCannotAssignToCommand() {
        let (_, errors) = parse("tensor = 3")
        XCTAssertEqual(errors.map(\.message), ["cannot assign to 'tensor': it is a command"])
    }

    func testOperatorsInCommandArgumentsNeedParentheses() {
        let (_, errors) = parse("tensor arange 10 - 1\ntensor zeros [2] + 1")
        XCTAssertEqual(errors.map(\.message), [
            "unexpected '-' in the arguments of 'tensor arange'; write arithmetic in parentheses, as (a - b)",
            "unexpected '+' in the arguments of 'tensor zeros'; put the command in parentheses to use its value in an expression, as (tensor zeros …)",
        ])
    }

    func testFormRequiredWhenNoPlainForm() {
        let (_, errors) = parse("set sede 1")
        XCTAssertEqual(errors.map(\.message), ["'set' needs one of: seed, threads; did you mean 'seed'?"])
    }

    func testNestingIsBounded() {
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        let (_, errors) = parse("x = " + deep)
        XCTAssertEqual(errors.map(\.message), ["expression is nested too deeply (limit 256 levels)"])
        let long = "x = " + Array(repeating: "1", count: 400).joined(separator: " + ")
        XCTAssertEqual(parse(long).1.map(\.message), ["expression is nested too deeply (limit 256 levels)"])
        XCTAssertEqual(parse("x = " + String(repeating: "-", count: 1000) + "1").1.count, 1)
    }

    func testLoopsAreReservedForLater() {
        let (_, errors) = parse("for x in [1, 2] {\n}")
        XCTAssertEqual(errors.first?.message, "'for' is not supported yet")
    }
}
