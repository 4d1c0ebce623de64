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
        case .forLoop(let loop):
            return "for \(loop.variable.lexeme) in \(show(loop.iterable)) \(show(loop.body))"
        case .ifElse(let chain):
            let branches = chain.branches.map { "if \(show($0.condition)) \(show($0.body))" }.joined(separator: " else ")
            return branches + (chain.otherwise.map { " else " + show($0) } ?? "")
        }
    }

    private func show(_ block: Block) -> String {
        "{" + block.statements.map(show).joined(separator: "; ") + "}"
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
        case .range(_, let a, let b): return "range(" + ([a] + (b.map { [$0] } ?? [])).map(show).joined(separator: ", ") + ")"
        case .interpolation(_, let parts):
            return "\"" + parts.map { part in
                switch part {
                case .text(let t): return t
                case .expr(let e): return "\\(" + show(e) + ")"
                }
            }.joined() + "\""
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
        let forms = CommandTable.standard.forms(of: "set").joined(separator: ", ")
        XCTAssertEqual(errors.map(\.message), ["'set' needs one of: \(forms); did you mean 'seed'?"])
    }

    func testNestingIsBounded() {
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        let (_, errors) = parse("x = " + deep)
        XCTAssertEqual(errors.map(\.message), ["nested too deeply (limit 256 levels)"])
        let long = "x = " + Array(repeating: "1", count: 400).joined(separator: " + ")
        XCTAssertEqual(parse(long).1.map(\.message), ["nested too deeply (limit 256 levels)"])
        XCTAssertEqual(parse("x = " + String(repeating: "-", count: 1000) + "1").1.count, 1)
    }

    func testLoopsAndConditionals() {
        XCTAssertEqual(show("for x in [1, 2] {\n  print x\n}"), "for x in [1, 2] {print x}")
        XCTAssertEqual(show("for i in range(3) { a = i; print a }"), "for i in range(3) {a = i; print a}")
        XCTAssertEqual(show("for i in range(1, n) {\n}"), "for i in range(1, n) {}")
        XCTAssertEqual(show("if a < 1 { print 1 } else if a < 2 { print 2 } else { print 3 }"),
                       "if (a < 1) {print 1} else if (a < 2) {print 2} else {print 3}")
        XCTAssertEqual(show("for m in [random, snip] {\n  for s in [0.9] {\n    x = s\n  }\n}"),
                       "for m in [random, snip] {for s in [0.9] {x = s}}")
    }

    func testInterpolation() {
        XCTAssertEqual(show(#"print "acc-\(s).csv""#), #"print "acc-\(s).csv""#)
        XCTAssertEqual(show(#"x = "\(a + 1) and \("in\(b)")""#), #"x = "\((a + 1)) and \("in\(b)")""#)
        let (_, errors) = parse(#"x = "\(a b)""#)
        XCTAssertEqual(errors.map(\.description), ["1:10: error: expected ')' to end the interpolation, found 'b'"])
        var lexer = Lexer(#"x = "\(a" + 1"#)
        _ = lexer.scan()
        XCTAssertEqual(lexer.diagnostics.map(\.description), ["1:6: error: '\\(' in a string needs a matching ')' on the same line"])
    }

    func testBlockErrorsAreReportedOneByOne() {
        let (_, errors) = parse("for x in [1] {\n  a = ]\n  b = )\n}\nc = ]")
        XCTAssertEqual(errors.map(\.description), ["2:7: error: expected an expression, found ']'",
                                                   "3:7: error: expected an expression, found ')'",
                                                   "5:5: error: expected an expression, found ']'"])
        let (_, header) = parse("for 1 in x {\n  print 1\n}\nprint 2")
        XCTAssertEqual(header.map(\.description), ["1:5: error: expected a loop variable name after 'for', found '1'"])
        let (_, unclosed) = parse("if true {\n print 1\n")
        XCTAssertEqual(unclosed.map(\.message), ["expected '}' to close the '{' at 1:9, found end of input"])
        let (_, elseAlone) = parse("if true {\n}\nelse {\n}")
        XCTAssertEqual(elseAlone.first?.message, "'else' must follow the '}' of an if, on the same line: } else {")
    }

    func testMisspelledKeywordsSuggest() {
        XCTAssertEqual(parse("fro x in [1] {\n}").1.first?.message, "unknown command 'fro'; did you mean 'for'?")
        XCTAssertEqual(parse("for x inn [1] {\n}").1.first?.message, "expected 'in' after 'for x', found 'inn'; did you mean 'in'?")
        XCTAssertEqual(parse("if true {\n} esle {\n}").1.first?.message,
                       "expected the end of the statement, found 'esle'; did you mean 'else'?")
        XCTAssertEqual(parse("print a < b < c").1.first?.message, "comparisons do not chain; write (a < b) and (b < c)")
    }

    func testTopLevelSpans() {
        var lexer = Lexer("a = 1\n\nfor x in [1] {\n  print x\n}\nb = 2; c = 3")
        var parser = Parser(tokens: lexer.scan())
        _ = parser.parse()
        XCTAssertEqual(parser.spans, [1...1, 3...5, 6...6, 6...6])
    }
}
