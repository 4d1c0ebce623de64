import PrnKernel

/// Runs untrusted input with tight limits, for the fuzz test and the libFuzzer target
/// (`scripts/fuzz/FuzzTarget.swift`): every input must end quickly, with an outcome, whatever it holds.
///
/// The command table is sandboxed — the language's own commands only (tensors, workspace, tables),
/// without `run`, so nothing reads or writes files and nothing trains — and the interpreter gets a
/// step budget, small lists and strings, and a tensor cap of 4,096 elements.
public enum FuzzHarness {
    /// Commands safe for untrusted input: no files, no data sets, no training.
    public static let commands = CommandTable(Commands.tensor + Commands.workspace.filter { $0.head != "run" } + Commands.tables)

    /// Statements and loop iterations one input may run.
    public static let steps = 2_000

    /// Lexes, parses and runs `source` in a fresh sandboxed interpreter; output is discarded.
    @discardableResult
    public static func run(_ source: String) -> Interpreter.Outcome {
        let savedCap = Tensor.maxElements, savedThreads = Parallel.threads
        Tensor.maxElements = 4096
        defer {
            Tensor.maxElements = savedCap
            Parallel.threads = savedThreads
        }
        let interpreter = Interpreter(commands: commands) { _ in }
        interpreter.budget = Budget(steps: steps)
        interpreter.limits.listCount = 4096
        interpreter.limits.rangeCount = 100_000
        interpreter.limits.stringLength = 1 << 16
        interpreter.limits.runDepth = 2
        let line = String(source.suffix(80))
        if !Interpreter.isInsideString(line) { _ = interpreter.completions(before: line, word: "") }
        return interpreter.run(source: source, file: "<fuzz>")
    }

    /// `run` for raw bytes, as libFuzzer hands them over (invalid UTF-8 is repaired).
    @discardableResult
    public static func run(bytes: UnsafeRawBufferPointer) -> Interpreter.Outcome {
        run(String(decoding: bytes, as: UTF8.self))
    }
}
