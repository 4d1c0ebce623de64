import PrnNotebook

/// Running one shard of an experiment grid, and recording its rows (`prn run --shard i/n
/// --results out.jsonl [--resume]`).
///
/// - Shards: shard `i` of `n` runs iteration `k` of every outermost `for` loop when
///   `k mod n == i`; code outside loops runs in every shard. Loop indices are the full run's, so
///   derived seeds — and so the numbers drawn — are the same as in the unsharded run.
/// - Results: every `row` is appended to the results file with its table's name and its place in
///   the run (`RowKey`); the end of each outermost iteration is marked, so `--resume` skips the
///   iterations a preempted job finished (putting their rows back into the tables) and redoes
///   the one it was in.
public final class ScaleOut {
    public let shardIndex: Int
    public let shardCount: Int
    let writer: ResultsWriter?

    private var phase = 0
    private var iteration: Int?
    private var rowIndex = 0

    /// `shardIndex` in `0..<shardCount`; `results` appends the rows to a file.
    public init(shardIndex: Int = 0, shardCount: Int = 1, results: ResultsWriter? = nil) {
        self.shardIndex = shardIndex
        self.shardCount = max(1, shardCount)
        self.writer = results
    }

    func enterLoop() { advancePhase() }

    func leaveLoop() { advancePhase() }

    private func advancePhase() {
        phase += 1
        iteration = nil
        rowIndex = 0
    }

    /// Whether this shard runs iteration `k` of an outermost loop.
    func runs(iteration k: Int) -> Bool { k % shardCount == shardIndex }

    /// Whether the results file already has iteration `k` of the current outermost loop.
    func isFinished(iteration k: Int) -> Bool { writer?.isFinished(phase: phase, iteration: k) ?? false }

    func beginIteration(_ k: Int) {
        iteration = k
        rowIndex = 0
    }

    func finishIteration(_ k: Int) throws {
        try writer?.append(.done(phase: phase, iteration: k))
        iteration = nil
        rowIndex = 0
    }

    /// Records a row made now; returns its key.
    @discardableResult
    func record(table: String, title: String?, cells: [(String, TableCell)]) throws -> RowKey {
        let key = RowKey(phase: phase, iteration: iteration, index: rowIndex)
        rowIndex += 1
        try writer?.append(.row(table: table, title: title, key: key, cells: cells))
        return key
    }

    /// The rows a finished iteration `k` of the current loop left in the results file.
    func earlierRows(iteration k: Int) -> [(table: String, cells: [(String, TableCell)])] {
        guard let writer else { return [] }
        return writer.earlierRows.compactMap { record in
            guard case .row(let table, _, let key, let cells) = record, key.phase == phase, key.iteration == k else { return nil }
            return (table, cells)
        }
    }
}

extension Interpreter {
    /// Records a row appended to the table bound to `table` (`row t …`), for the results file.
    func recordRow(table: String, title: String?, cells: [(String, TableCell)]) throws {
        try scaleOut?.record(table: table, title: title, cells: cells)
    }

    /// An iteration the results file already has is skipped; its rows go back into the tables
    /// bound to their names, so the run's tables are whole.
    func replayRows(iteration k: Int) throws {
        guard let scaleOut else { return }
        for (name, cells) in scaleOut.earlierRows(iteration: k) {
            guard case .object(let object)? = workspace[name], let table = object as? TableValue else { continue }
            workspace.bind(name, .object(TableValue(table.table.appending(cells))))
        }
    }
}
