import Foundation
import PrnKernel

/// Runs source text against a workspace: lex, parse, stop if either reported errors, then
/// execute statement by statement, stopping at the first runtime error (jlox's `Lox.run`).
///
/// The REPL and `prn run` share `run(source:file:lineOffset:)`; the REPL keeps one interpreter
/// for its whole session. A failed statement binds nothing: assignment happens only after the
/// right-hand side has been evaluated.
///
/// ```swift
/// let interpreter = Interpreter(output: { print($0) })
/// interpreter.run(source: "a = tensor zeros [2, 3]\nprint a.shape", file: "<-e>")   // [2, 3]
/// ```
public final class Interpreter {
    /// How a run ended.
    public enum Outcome: Equatable {
        case ok
        /// A syntax or runtime error was reported.
        case failed
        /// `Interrupt.requested` was set: the run stopped before its next statement.
        case interrupted
    }

    public let commands: CommandTable
    public private(set) var workspace = Workspace()
    /// The seed random commands derive theirs from when they get no `seed=` (`set seed N`).
    public var globalSeed: UInt64 = 0
    /// Receives everything the program prints, one chunk (without a trailing newline) per call.
    public var output: (String) -> Void
    /// Receives rendered diagnostics.
    public var errorOutput: (String) -> Void
    /// Shows the value of a bare expression statement; by default it is printed as is. The REPL
    /// sets this to print `Out[n]: …`.
    public var show: ((Value) -> Void)?

    /// Indices of the enclosing loops, outermost first: part of every derived seed. Loops push
    /// and pop here.
    var loopIndices: [Int] = []
    /// Added to line numbers of the current run (the REPL numbers lines across cells).
    private var lineOffset = 0

    public init(commands: CommandTable = .standard,
                output: @escaping (String) -> Void = { print($0) },
                errorOutput: @escaping (String) -> Void = { Interpreter.writeStandardError($0) }) {
        self.commands = commands
        self.output = output
        self.errorOutput = errorOutput
    }

    /// Runs a script or a cell. `file` names it in diagnostics (`<repl>`, `<-e>`, a path);
    /// `lineOffset` is added to its line numbers.
    @discardableResult
    public func run(source: String, file: String, lineOffset: Int = 0) -> Outcome {
        let renderer = DiagnosticRenderer(file: file, source: source, lineOffset: lineOffset)
        var lexer = Lexer(source)
        let tokens = lexer.scan()
        guard lexer.diagnostics.isEmpty else {
            lexer.diagnostics.forEach { errorOutput(renderer.render($0)) }
            return .failed
        }
        var parser = Parser(tokens: tokens, commands: commands)
        let statements = parser.parse()
        guard parser.diagnostics.isEmpty else {
            parser.diagnostics.forEach { errorOutput(renderer.render($0)) }
            return .failed
        }
        self.lineOffset = lineOffset
        for statement in statements {
            if Interrupt.requested { return .interrupted }
            do {
                try execute(statement)
            } catch let diagnostic as Diagnostic {
                errorOutput(renderer.render(diagnostic))
                return .failed
            } catch is Interrupted {
                return .interrupted
            } catch {
                errorOutput(renderer.render(Diagnostic("\(error)", at: statement.location)))
                return .failed
            }
        }
        return .ok
    }

    /// Writes a chunk of program output.
    public func emit(_ text: String) { output(text) }

    /// The seed for a random command: its `seed=` argument, else one derived from the global
    /// seed, the command's position and the loop indices, so reruns draw the same numbers.
    public func seed(_ args: Arguments) throws -> UInt64 {
        if let seed = try args.optionalInt("seed") { return UInt64(seed) }
        let at = args.call.location
        return Seeds.derive(global: globalSeed, line: at.line + lineOffset, column: at.column, loopIndices: loopIndices)
    }

    /// Removes a name; false when it was not bound.
    func unbind(_ name: String) -> Bool { workspace.remove(name) != nil }

    // MARK: - Statements

    private func execute(_ statement: Stmt) throws {
        switch statement {
        case .expression(let expr):
            let value = try evaluate(expr)
            if case .none = value { return }
            if let show { show(value) } else { emit(value.description) }
        case .assign(let name, let expr):
            let value = try evaluate(expr)
            workspace.bind(name.lexeme, value)
        case .print(_, let expr):
            emit(try evaluate(expr).printed)
        }
    }

    /// Writes a line to standard error, after flushing standard output so the two stay in order
    /// when both go to one pipe.
    public static func writeStandardError(_ text: String) {
        fflush(stdout)
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
