import XCTest
@testable import PrnLang

final class LexerTests: XCTestCase {
    private func kinds(_ source: String) -> [TokenKind] {
        var lexer = Lexer(source)
        return lexer.scan().map(\.kind)
    }

    private func scan(_ source: String) -> ([Token], [Diagnostic]) {
        var lexer = Lexer(source)
        let tokens = lexer.scan()
        return (tokens, lexer.diagnostics)
    }

    func testPunctuationAndOperators() {
        XCTAssertEqual(kinds("( ) [ ] { } , . : ; + - * / @ = == ! != < <= > >="),
                       [.leftParen, .rightParen, .leftBracket, .rightBracket, .leftBrace, .rightBrace,
                        .comma, .dot, .colon, .semicolon, .plus, .minus, .star, .slash, .at,
                        .equal, .equalEqual, .bang, .bangEqual, .less, .lessEqual, .greater, .greaterEqual, .eof])
    }

    func testNumbers() {
        let (tokens, errors) = scan("1 2.5 1e-3 3. 7E+2 10")
        XCTAssertEqual(errors, [])
        XCTAssertEqual(tokens.compactMap(\.literal), [.integer(1), .float(2.5), .float(0.001), .float(3), .float(700), .integer(10)])
    }

    func testNumberFollowedByFieldIsNotAFloat() {
        XCTAssertEqual(kinds("1.shape"), [.integer, .dot, .name, .eof])
    }

    func testNumbersOutOfRange() {
        let (_, errors) = scan("99999999999999999999 1e999")
        XCTAssertEqual(errors.map(\.message), ["integer 99999999999999999999 is too large (limit \(Int.max))",
                                                "number 1e999 is out of range"])
    }

    func testStringsAndEscapes() {
        let (tokens, errors) = scan(#""a\"b\\c\nd\te""#)
        XCTAssertEqual(errors, [])
        XCTAssertEqual(tokens.first?.literal, .string("a\"b\\c\nd\te"))
    }

    /// A string value prints as a literal the lexer reads back as the same string, whatever it
    /// holds: quotes, backslashes, the escaped controls, CRLF and an unescaped control character.
    func testPrintedStringsReadBack() {
        for text in ["plain", "a\"b\\c", "tab\tcr\rnl\n", "crlf\r\nend", "bell\u{7}", "µ ünï"] {
            let literal = Value.string(text).description
            let (tokens, errors) = scan(literal)
            XCTAssertEqual(errors, [], literal)
            XCTAssertEqual(tokens.first?.literal, .string(text), literal)
            XCTAssertEqual(tokens.count, 2, literal)
        }
    }

    func testUnterminatedStringPointsAtItsQuote() {
        let (_, errors) = scan("x = 1\ny = \"abc\n")
        XCTAssertEqual(errors, [Diagnostic("unterminated string", at: SourceLocation(line: 2, column: 5))])
    }

    func testUnknownEscapeAndCharacter() {
        let (_, errors) = scan(#""a\qb" $"#)
        XCTAssertEqual(errors.map(\.description), ["1:3: error: unknown escape '\\q' in string",
                                                   "1:8: error: unexpected character '$'"])
    }

    func testKeywordsAndNames() {
        XCTAssertEqual(kinds("print x true false none and or not for in if else tensor _a1"),
                       [.print, .name, .true, .false, .none, .and, .or, .not, .for, .in, .if, .else, .name, .name, .eof])
    }

    func testCommentsAndNewlines() {
        XCTAssertEqual(kinds("a # comment\n\nb"), [.name, .newline, .newline, .name, .eof])
    }

    func testNewlinesInsideBracketsAreWhitespace() {
        XCTAssertEqual(kinds("[1,\n 2]\n(3\n)"), [.leftBracket, .integer, .comma, .integer, .rightBracket, .newline,
                                                   .leftParen, .integer, .rightParen, .eof])
    }

    func testLocationsAndSpacing() {
        let (tokens, _) = scan("f(x) g (y)\n  h")
        XCTAssertEqual(tokens.map(\.location.description), ["1:1", "1:2", "1:3", "1:4", "1:6", "1:8", "1:9", "1:10", "1:11", "2:3", "2:4"])
        XCTAssertEqual(tokens[1].spaceBefore, false)   // f(
        XCTAssertEqual(tokens[5].spaceBefore, true)    // g (
    }

    func testContinuation() {
        XCTAssertTrue(Lexer.needsContinuation("a = [1, 2,"))
        XCTAssertTrue(Lexer.needsContinuation("x = (1 +"))
        XCTAssertTrue(Lexer.needsContinuation("for x in y {"))
        XCTAssertFalse(Lexer.needsContinuation("a = [1, 2]"))
        XCTAssertFalse(Lexer.needsContinuation("s = \"[\""))
        XCTAssertFalse(Lexer.needsContinuation("a = 1 # ["))
    }
}
