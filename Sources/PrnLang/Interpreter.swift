import Foundation
import PrnKernel

/// Runs source text against a workspace: lex, parse, stop if either reported errors, then
/// execute statement by statement, stopping at the first runtime error (jlox's `Lox.run`).
///
/// The REPL and `prn run` share `run(source:file:)`; the REPL keeps one interpreter for its whole
/// session. A failed statement binds nothing: assignment happens only after the right-hand side
/// has been evaluated. Everything the program shows goes through `sink` as an `OutputEvent`
/// (text, values, tables, plots, errors), so a terminal, a test and a notebook can each render it.
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
        /// `Interrupt.requested` was set: the run stopped at its next check.
        case interrupted
    }

    /// A script being run: the top-level one, or one started by `run "x.prn"`.
    struct Frame {
        /// The name diagnostics use.
        let file: String
        /// The folder relative `run` paths resolve against.
        let directory: String
        /// Added to line numbers (the REPL numbers lines across cells).
        let lineOffset: Int
        /// Where `run` started this script; nil for the top level.
        let callSite: SourceLocation?
    }

    public let commands: CommandTable
    public internal(set) var workspace = Workspace()
    /// The seed random commands derive theirs from when they get no `seed=` (`set seed N`).
    public var globalSeed: UInt64 = 0
    /// Receives everything the program shows.
    public var sink: (OutputEvent) -> Void
    /// Send a `.cell` event with each top-level statement's source before running it, so a
    /// notebook can show one cell per statement (`prn run --notebook`).
    public var announcesCells = false
    /// Limits on work for untrusted input (fuzzing); nil for none.
    public var budget: Budget?
    /// Sizes a run may reach: lists, ranges, strings, `run` nesting.
    public var limits = RuntimeLimits()
    /// Sharding and results files (`prn run --shard --results`); nil for a plain run.
    public var scaleOut: ScaleOut?
    /// Facts commands report for a notebook's header, such as data checksums, in order.
    public internal(set) var provenance: [(key: String, value: String)] = []

    /// Indices of the enclosing loops, outermost first: part of every derived seed.
    var loopIndices: [Int] = []
    /// Scripts being run, the top level first.
    var frames: [Frame] = []
    /// Blocks and `run`s entered: bounded, so the interpreter's recursion is.
    var executionDepth = 0

    public init(commands: CommandTable = .standard, sink: @escaping (OutputEvent) -> Void) {
        self.commands = commands
        self.sink = sink
    }

    /// An interpreter whose text goes to `output` and diagnostics to `errorOutput`, one chunk
    /// (without a trailing newline) per call. Tables print aligned, values as cells show them.
    public convenience init(commands: CommandTable = .standard,
                            output: @escaping (String) -> Void = { print($0) },
                            errorOutput: @escaping (String) -> Void = { Interpreter.writeStandardError($0) }) {
        self.init(commands: commands, sink: { event in
            switch event {
            case .error(let text): errorOutput(text)
            default: if let text = event.terminalText { output(text) }
            }
        })
    }

    /// Runs a script or a cell. `file` names it in diagnostics (`<repl>`, `<-e>`, a path);
    /// `lineOffset` is added to its line numbers; `directory` is where `run "x.prn"` looks
    /// (default: the file's folder, or the current directory). `overrides` replace the value of
    /// the first top-level assignment to each name (`prn run --set name=value`).
    @discardableResult
    public func run(source: String, file: String, lineOffset: Int = 0, directory: String? = nil,
                    overrides: [String: Value] = [:]) -> Outcome {
        let renderer = DiagnosticRenderer(file: file, source: source, lineOffset: lineOffset)
        guard let (statements, spans) = parse(source, renderer: renderer) else { return .failed }
        let program = Self.applying(overrides, to: statements)
        frames = [Frame(file: file, directory: directory ?? Self.directory(of: file), lineOffset: lineOffset, callSite: nil)]
        defer { frames = [] }
        loopIndices = []
        executionDepth = 0
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        var shownThrough = 0
        for (statement, span) in zip(program, spans) {
            if Interrupt.requested { return .interrupted }
            if announcesCells, span.upperBound > shownThrough {
                sink(.cell(Self.cellSource(lines, from: shownThrough + 1, through: span.upperBound)))
                shownThrough = span.upperBound
            }
            do {
                try execute(statement)
            } catch let diagnostic as Diagnostic {
                sink(.error(renderer.render(diagnostic)))
                return .failed
            } catch let failure as NestedFailure {
                sink(.error(failure.text))
                return .failed
            } catch is Interrupted {
                return .interrupted
            } catch {
                sink(.error(renderer.render(Diagnostic("\(error)", at: statement.location))))
                return .failed
            }
        }
        return .ok
    }

    /// Lexes and parses, reporting every error; nil when there were any.
    private func parse(_ source: String, renderer: DiagnosticRenderer) -> ([Stmt], [ClosedRange<Int>])? {
        let program = Parser.program(source, commands: commands)
        guard program.errors.isEmpty else {
            program.errors.forEach { sink(.error(renderer.render($0))) }
            return nil
        }
        return (program.statements, program.spans)
    }

    /// The seed for a random command: its `seed=` argument, else one derived from the global
    /// seed, the command's position (and the `run` statements that led to its script) and the
    /// loop indices, so reruns — and shards of a grid — draw the same numbers.
    public func seed(_ given: Seed?, at call: Token) -> UInt64 {
        if let given { return given.value }
        let at = call.location
        let callSites = frames.compactMap(\.callSite)
        return Seeds.derive(global: globalSeed, line: at.line + (frames.last?.lineOffset ?? 0), column: at.column,
                            loopIndices: loopIndices, callSites: callSites)
    }

    /// Removes a name; false when it was not bound.
    func unbind(_ name: String) -> Bool { workspace.remove(name) != nil }

    /// Binds a name: how `row t …` replaces its table.
    public func rebind(_ name: String, to value: Value) { workspace.bind(name, value) }

    /// The names a script assigns at its top level, for checking `--set` before running; nil when
    /// the script does not parse (its own errors then say what is wrong, not a missing name).
    public static func topLevelAssignments(in source: String, commands: CommandTable = .standard) -> [String]? {
        let program = Parser.program(source, commands: commands)
        guard program.errors.isEmpty else { return nil }
        return program.statements.compactMap { statement in
            if case .assign(let name, _) = statement { return name.lexeme }
            return nil
        }
    }

    /// The statements with the first top-level assignment to each overridden name given its new value.
    private static func applying(_ overrides: [String: Value], to statements: [Stmt]) -> [Stmt] {
        var pending = overrides
        return statements.map { statement in
            guard case .assign(let name, let expr) = statement, let value = pending.removeValue(forKey: name.lexeme) else {
                return statement
            }
            return .assign(name, .literal(value, Token(kind: .name, lexeme: name.lexeme, location: expr.location)))
        }
    }

    /// Lines `from…through` (1-based) without leading and trailing blank lines.
    private static func cellSource(_ lines: [Substring], from: Int, through: Int) -> String {
        let lower = max(0, from - 1), upper = min(lines.count, through)
        guard lower < upper else { return "" }
        let slice = lines[lower..<upper].map(String.init)
        let trimmed = slice.drop { $0.trimmingCharacters(in: .whitespaces).isEmpty }
        return Array(trimmed.reversed().drop { $0.trimmingCharacters(in: .whitespaces).isEmpty }.reversed()).joined(separator: "\n")
    }

    /// The folder of a script path; the current directory for `<repl>`, `<-e>` and bare names.
    static func directory(of file: String) -> String {
        if file.hasPrefix("<") { return FileManager.default.currentDirectoryPath }
        let folder = (file as NSString).deletingLastPathComponent
        return folder.isEmpty ? FileManager.default.currentDirectoryPath : folder
    }

    /// Writes a line to standard error, after flushing standard output so the two stay in order
    /// when both go to one pipe.
    public static func writeStandardError(_ text: String) {
        fflush(stdout)
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// An error inside `run "other.prn"`, already rendered against other.prn; each enclosing `run`
/// adds a note with where it was run from.
struct NestedFailure: Error {
    var errors: [String]
    /// `run from FILE:LINE:COL`, innermost first.
    var notes: [String]

    /// The errors, then the notes, a run of equal notes (a script running itself) shown once with a count.
    var text: String {
        var lines = errors
        var index = 0
        while index < notes.count {
            var end = index
            while end + 1 < notes.count, notes[end + 1] == notes[index] { end += 1 }
            let count = end - index + 1
            lines.append(notes[index] + (count > 1 ? " (\(count) times)" : ""))
            index = end + 1
        }
        return lines.joined(separator: "\n")
    }
}

/// Sizes values and loops may reach, checked as they are made. The defaults are `Limits`';
/// the fuzzer lowers them.
public struct RuntimeLimits {
    /// Items in a list, counting those of nested lists (also `range(…)` used as a value).
    public var listCount = Limits.maxListCount
    /// Iterations of a loop over `range(…)`.
    public var rangeCount = Limits.maxRangeCount
    /// UTF-8 bytes in a string made by `+` or interpolation.
    public var stringLength = Limits.maxStringLength
    /// Nested `run "x.prn"`.
    public var runDepth = Limits.maxRunDepth

    public init() {}
}

/// Limits on the work one run may do, for untrusted input such as the fuzzer's.
public struct Budget {
    /// Statements and loop iterations left.
    public var steps: Int

    public init(steps: Int) { self.steps = steps }
}
