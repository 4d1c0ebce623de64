/// A user-facing error with the place it happened: syntax errors from the lexer and parser, and
/// runtime errors from the interpreter (jlox's `RuntimeError` carries its token the same way).
public struct Diagnostic: Error, Equatable, Sendable, CustomStringConvertible {
    public let location: SourceLocation
    public let message: String
    /// Lines shown after the caret, e.g. a command's usage line.
    public var notes: [String]

    public init(_ message: String, at location: SourceLocation, notes: [String] = []) {
        self.location = location
        self.message = message
        self.notes = notes
    }

    public init(_ message: String, at token: Token, notes: [String] = []) {
        self.init(message, at: token.location, notes: notes)
    }

    public var description: String { "\(location): error: \(message)" }
}

/// Renders diagnostics as `file:line:col: error: message`, the source line, and a caret.
public struct DiagnosticRenderer: Sendable {
    public let file: String
    private let lines: [Substring]
    /// Added to line numbers: the REPL numbers its cells' lines as one running session.
    public let lineOffset: Int

    public init(file: String, source: String, lineOffset: Int = 0) {
        self.file = file
        self.lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        self.lineOffset = lineOffset
    }

    public func render(_ diagnostic: Diagnostic) -> String {
        let line = diagnostic.location.line, column = diagnostic.location.column
        var text = "\(file):\(line + lineOffset):\(column): error: \(diagnostic.message)"
        if line >= 1 && line <= lines.count {
            let sourceLine = lines[line - 1].replacingTabs()
            text += "\n" + sourceLine
            text += "\n" + String(repeating: " ", count: max(0, min(column - 1, sourceLine.count))) + "^"
        }
        for note in diagnostic.notes { text += "\n" + note }
        return text
    }
}

private extension Substring {
    /// Tabs as single spaces, so the caret lines up with the column count.
    func replacingTabs() -> String {
        var s = String(self)
        if s.hasSuffix("\r") { s.removeLast() }
        return String(s.map { $0 == "\t" ? " " : $0 })
    }
}

/// "Did you mean" suggestions by edit distance.
public enum Suggest {
    /// The closest candidate within a small edit distance, if any.
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let limit = max(1, min(3, word.count / 3 + 1))
        guard word.count <= 64 else { return nil }
        var best: (String, Int)?
        for candidate in Set(candidates).sorted() where candidate != word && abs(candidate.count - word.count) <= limit {
            let d = distance(word.lowercased(), candidate.lowercased())
            if d <= limit, d < (best?.1 ?? Int.max) { best = (candidate, d) }
        }
        return best?.0
    }

    /// `message` plus "; did you mean 'x'?" when a close candidate exists.
    public static func message(_ message: String, for word: String, in candidates: [String]) -> String {
        guard let match = closest(to: word, in: candidates) else { return message }
        return "\(message); did you mean '\(match)'?"
    }

    /// Levenshtein distance, with a transposition counted as one edit (optimal string alignment).
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
