import Foundation
import PrnNotebook
import PrnData
import PrnNN

/// Running a grid's work units in shards, in worker processes, or resumed from a results file
/// (`prn run --shard i/n --jobs N --results out.jsonl [--resume]`).
///
/// - Units: the iterations of a top-level loop *nest* — a `for` whose body is exactly one `for`
///   counts together with it — numbered in the serial run's order from 0 in each nest. The
///   singh-liu-quick script's `method × sparsity × seed` nest has 5 × 3 × 3 = 45.
/// - Shards: shard `i` of `n` runs unit `u` when `u mod n == i`; code outside loops runs in every
///   shard. Loop indices are the serial run's, so derived seeds — and the numbers drawn — are too.
/// - Results: every `row` is appended to the results file with its table's name and its place in
///   the run (`RowKey`, whose `iteration` is the unit); the end of each unit is marked, so
///   `--resume` skips the units a preempted job finished (putting their rows back into the
///   tables) and redoes the one it was in.
/// - Jobs: a worker process `claim`s each unit before running it and reports its outputs
///   (`onUnitStart`, `onRecord`, the interpreter's sink); the coordinating process runs no unit
///   itself but replays each unit's outcome from `remote`, in serial order.
public final class ScaleOut {
    public let shardIndex: Int
    public let shardCount: Int
    let writer: ResultsWriter?

    /// Worker: whether this process runs `unit` of the nest in `phase`; false leaves it to another.
    public var claim: ((_ phase: Int, _ unit: Int) -> Bool)?
    /// Worker: a unit this process claimed starts.
    public var onUnitStart: ((_ phase: Int, _ unit: Int) -> Void)?
    /// Worker: a row made, or a unit finished.
    public var onRecord: ((ResultRecord) -> Void)?
    /// Coordinator: waits for what a worker's run of a unit left, to replay it here.
    public var remote: ((_ phase: Int, _ unit: Int) throws -> UnitOutcome)?
    /// Where trainings inside units save their epochs (beside the results file), so a resumed
    /// unit's training goes on mid-way; a unit's folder is removed when it finishes.
    public var checkpoints: String?

    /// Top-level loop nests started and finished so far (0 before the first, 1 inside it, …).
    public private(set) var phase = 0
    /// The unit running here, nil outside units.
    public private(set) var unit: Int?
    /// Loops in the current nest.
    private var nestDepth = 0
    /// Units of the current nest reached so far.
    private var unitsReached = 0
    private var rowIndex = 0

    /// `shardIndex` in `0..<shardCount`; `results` appends the rows to a file.
    public init(shardIndex: Int = 0, shardCount: Int = 1, results: ResultsWriter? = nil) {
        self.shardIndex = shardIndex
        self.shardCount = max(1, shardCount)
        self.writer = results
    }

    /// A top-level loop starts: a new nest, as deep as its chain of loops whose body is one loop.
    func enterNest(_ loop: ForLoop) {
        advancePhase()
        nestDepth = Self.depth(of: loop)
    }

    func leaveNest() {
        advancePhase()
        nestDepth = 0
    }

    private func advancePhase() {
        phase += 1
        unit = nil
        unitsReached = 0
        rowIndex = 0
    }

    /// How many loops a nest starting at `loop` has: 1, plus the inner loop's when the body is exactly one loop.
    static func depth(of loop: ForLoop) -> Int {
        if loop.body.statements.count == 1, case .forLoop(let inner) = loop.body.statements[0] { return 1 + depth(of: inner) }
        return 1
    }

    /// Whether a loop with `enclosing` loops around it is the innermost loop of the current nest,
    /// whose iterations are the units.
    func isUnitLevel(enclosing: Int) -> Bool { nestDepth > 0 && enclosing == nestDepth - 1 }

    /// The next unit's number in the current nest.
    func reachUnit() -> Int {
        defer { unitsReached += 1 }
        return unitsReached
    }

    /// Whether this shard runs unit `u`.
    func runs(unit u: Int) -> Bool { u % shardCount == shardIndex }

    /// Whether the results file already has unit `u` of the current nest.
    func isFinished(unit u: Int) -> Bool { writer?.isFinished(phase: phase, iteration: u) ?? false }

    func beginUnit(_ u: Int) {
        unit = u
        rowIndex = 0
        onUnitStart?(phase, u)
    }

    func finishUnit(_ u: Int) throws {
        try writer?.append(.done(phase: phase, iteration: u))
        if let folder = unitCheckpoints(u) { try? FileManager.default.removeItem(atPath: folder) }
        onRecord?(.done(phase: phase, iteration: u))
        unit = nil
        rowIndex = 0
    }

    /// The folder of unit `u`'s training checkpoints.
    private func unitCheckpoints(_ u: Int) -> String? {
        checkpoints.map { ($0 as NSString).appendingPathComponent("\(phase)-\(u)") }
    }

    /// The checkpoint folder for a training at `place` in the running unit; nil outside units.
    func checkpointFolder(_ place: String) -> String? {
        guard let u = unit, let folder = unitCheckpoints(u) else { return nil }
        return (folder as NSString).appendingPathComponent(place)
    }

    /// Records a row made now; returns its key.
    @discardableResult
    func record(table: String, title: String?, cells: [(String, TableCell)]) throws -> RowKey {
        let key = RowKey(phase: phase, iteration: unit, index: rowIndex)
        rowIndex += 1
        let record = ResultRecord.row(table: table, title: title, key: key, cells: cells)
        try writer?.append(record)
        onRecord?(record)
        return key
    }

    /// The rows a finished unit `u` of the current nest left in the results file.
    func earlierRows(unit u: Int) -> [ResultRecord] {
        guard let writer else { return [] }
        return writer.earlierRows.filter { record in
            guard case .row(_, _, let key, _) = record else { return false }
            return key.phase == phase && key.iteration == u
        }
    }
}

extension Interpreter {
    /// The checkpoints of the `train` at `call`: its `checkpoint=` folder, else, inside a unit of
    /// a run with a results file, one for its place in the unit (position, `run` call sites, loop indices).
    func trainCheckpoint(folder explicit: String?, at call: Token, model: Model, data: Dataset, config: TrainConfig) -> TrainCheckpoint? {
        let at = call.location
        let place = ([at.line + (frames.last?.lineOffset ?? 0), at.column] + frames.compactMap(\.callSite).map(\.line) + loopIndices)
            .map(String.init).joined(separator: "-")
        guard let folder = explicit ?? scaleOut?.checkpointFolder(place) else { return nil }
        return TrainCheckpoint(directory: folder, model: model, data: data, config: config)
    }

    /// Records a row appended to the table bound to `table` (`row t …`), for the results file.
    func recordRow(table: String, title: String?, cells: [(String, TableCell)]) throws {
        try scaleOut?.record(table: table, title: title, cells: cells)
    }

    /// Runs one unit of a nest, `body` being its iteration: here, in a worker (replaying what it
    /// left), from the results file (a finished unit's rows go back into the tables), or not at
    /// all (another shard's or another worker's).
    func runUnit(_ scaleOut: ScaleOut, loop: Token, body: () throws -> Void) throws {
        let u = scaleOut.reachUnit()
        guard scaleOut.runs(unit: u) else { return }
        if scaleOut.isFinished(unit: u) {
            replay(rows: scaleOut.earlierRows(unit: u))
            return
        }
        if let remote = scaleOut.remote {
            try replay(try remote(scaleOut.phase, u), loop: loop)
            return
        }
        if let claim = scaleOut.claim, !claim(scaleOut.phase, u) { return }
        scaleOut.beginUnit(u)
        try body()
        try scaleOut.finishUnit(u)
    }

    /// Puts rows back into the tables bound to their names, so the run's tables are whole.
    func replay(rows: [ResultRecord]) {
        for case .row(let name, _, _, let cells) in rows {
            guard case .object(let object)? = workspace[name], let table = object as? TableValue else { continue }
            workspace.bind(name, .object(TableValue(table.table.appending(cells))))
        }
    }

    /// Shows what a worker's unit showed and takes its rows, as if it had run here.
    private func replay(_ outcome: UnitOutcome, loop: Token) throws {
        for event in outcome.events { sink(event) }
        replay(rows: outcome.rows)
        switch outcome.ending {
        case .finished: return
        case .failed(let message): throw NestedFailure(errors: [message], notes: [])
        case .interrupted: throw Interrupted()
        case .lost(let why): throw Diagnostic(why, at: loop)
        }
    }
}

extension Interpreter {
    /// The source up to the end of its last top-level loop — what a `--jobs` worker runs —, or
    /// all of it when it has no loop.
    public static func throughLastLoop(_ source: String, commands: CommandTable = .standard) -> String {
        guard let last = topLevelLoopLines(source, commands: commands).last else { return source }
        return source.split(separator: "\n", omittingEmptySubsequences: false).prefix(last.upperBound).joined(separator: "\n")
    }

    /// Whether the script has a top-level loop, whose units `--jobs` can spread.
    public static func hasTopLevelLoop(_ source: String, commands: CommandTable = .standard) -> Bool {
        !topLevelLoopLines(source, commands: commands).isEmpty
    }

    /// The lines (1-based) of each top-level loop; none when the script does not parse (running
    /// it then reports the errors).
    private static func topLevelLoopLines(_ source: String, commands: CommandTable) -> [ClosedRange<Int>] {
        let program = Parser.program(source, commands: commands)
        return zip(program.statements, program.spans).compactMap { statement, lines in
            if case .forLoop = statement { return lines }
            return nil
        }
    }
}
