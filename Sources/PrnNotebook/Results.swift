import Foundation
import PrnFiles

/// Where a row was made in a run, so shards can be merged back into the unsharded order.
///
/// `phase` counts the top-level loop nests started and finished so far (0 before the first, 1
/// inside it, 2 after it, …), `iteration` is the work unit (nil outside loops), and `index`
/// numbers the rows made in that phase and iteration.
public struct RowKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let phase: Int
    public let iteration: Int?
    public let index: Int

    public init(phase: Int, iteration: Int?, index: Int) {
        self.phase = phase
        self.iteration = iteration
        self.index = index
    }

    public static func < (a: RowKey, b: RowKey) -> Bool {
        (a.phase, a.iteration ?? -1, a.index) < (b.phase, b.iteration ?? -1, b.index)
    }

    public var description: String { "phase \(phase), iteration \(iteration.map(String.init) ?? "-"), row \(index)" }
}

/// One line of a results file.
public enum ResultRecord: Equatable, Sendable {
    /// The first line: which script, shard and seed wrote the file.
    case header([String: String])
    /// A `row` statement's cells, tagged with its table and place in the run.
    case row(table: String, title: String?, key: RowKey, cells: [(String, TableCell)])
    /// A work unit finished: `--resume` skips it.
    case done(phase: Int, iteration: Int)

    public static func == (a: ResultRecord, b: ResultRecord) -> Bool {
        switch (a, b) {
        case (.header(let x), .header(let y)): return x == y
        case (.done(let p, let i), .done(let q, let j)): return p == q && i == j
        case (.row(let t, let ti, let k, let c), .row(let u, let ui, let l, let d)):
            return t == u && ti == ui && k == l && c.count == d.count && zip(c, d).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The record as one JSON line (without the newline).
    public var line: String {
        switch self {
        case .header(let fields):
            return JSON.object([("kind", .string("header"))] + fields.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }).serialized
        case .done(let phase, let iteration):
            return JSON.object([("kind", .string("done")), ("phase", .int(phase)), ("iteration", .int(iteration))]).serialized
        case .row(let table, let title, let key, let cells):
            var pairs: [(String, JSON)] = [("kind", .string("row")), ("table", .string(table))]
            if let title { pairs.append(("title", .string(title))) }
            pairs += [("phase", .int(key.phase)), ("iteration", key.iteration.map(JSON.int) ?? .null), ("index", .int(key.index)),
                      ("row", .object(cells.map { ($0.0, $0.1.json) }))]
            return JSON.object(pairs).serialized
        }
    }

    /// Reads one line.
    public init(line: String) throws {
        let json = try JSON.parse(line)
        switch json["kind"]?.string {
        case "header":
            guard case .object(let pairs) = json else { throw JSONError(description: "header is not an object") }
            let fields = pairs.compactMap { key, value in key == "kind" ? nil : value.string.map { (key, $0) } }
            self = .header(Dictionary(fields, uniquingKeysWith: { a, _ in a }))
        case "done":
            guard let phase = json["phase"]?.int, let iteration = json["iteration"]?.int else {
                throw JSONError(description: "done record without phase and iteration")
            }
            self = .done(phase: phase, iteration: iteration)
        case "row":
            guard let table = json["table"]?.string, let phase = json["phase"]?.int, let index = json["index"]?.int,
                  case .object(let cells)? = json["row"] else {
                throw JSONError(description: "row record without table, phase, index and row")
            }
            self = .row(table: table, title: json["title"]?.string,
                        key: RowKey(phase: phase, iteration: json["iteration"]?.int, index: index),
                        cells: cells.map { ($0.0, TableCell(json: $0.1)) })
        default:
            throw JSONError(description: "unknown record kind")
        }
    }
}

/// Reading, writing and merging results files (`prn run --results out.jsonl`): JSON Lines, one
/// record per line, appended as the run goes so a preempted job loses at most the iteration it
/// was in.
public enum Results {
    /// The records of a file, in order. Errors name the line.
    public static func read(_ path: String) throws -> [ResultRecord] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw JSONError(description: "cannot read \(path)")
        }
        var records: [ResultRecord] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (number, line) in lines.enumerated() {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            do { records.append(try ResultRecord(line: String(line))) } catch {
                // A job killed mid-write leaves a partial last line: skip it, it will be redone.
                if number == lines.count - 1 { continue }
                throw JSONError(description: "\(path):\(number + 1): \(error)")
            }
        }
        return records
    }

    /// Rows of several files merged into tables: rows are deduplicated by table and key (code
    /// outside loops runs in every shard), ordered by key, and grouped by table in order of first
    /// appearance.
    public static func merge(_ files: [[ResultRecord]]) -> [(name: String, table: Table)] {
        var seen = Set<String>()
        var rows: [(key: RowKey, order: Int, table: String, title: String?, cells: [(String, TableCell)])] = []
        for records in files {
            for case .row(let table, let title, let key, let cells) in records where seen.insert("\(table)\u{1F}\(key)").inserted {
                rows.append((key, rows.count, table, title, cells))
            }
        }
        rows.sort { ($0.key, $0.order) < ($1.key, $1.order) }
        var names: [String] = []
        var tables: [String: Table] = [:]
        for row in rows {
            if tables[row.table] == nil {
                names.append(row.table)
                tables[row.table] = Table(title: row.title)
            }
            tables[row.table] = tables[row.table]?.appending(row.cells)
        }
        return names.compactMap { name in tables[name].map { (name, $0) } }
    }
}

/// Appends records to a results file as they happen; safe to call from several threads (the
/// coordinator of `prn run --jobs` writes rows as its workers report them).
public final class ResultsWriter: @unchecked Sendable {
    public let path: String
    private let handle: FileHandle
    private let lock = NSLock()
    /// Units the file held when opened (finished by an earlier run), as `phase`/`iteration` pairs.
    public private(set) var finished: Set<[Int]> = []
    /// Rows the file already holds, by table and key: a resumed run does not write them again.
    private var written = Set<String>()
    /// Rows of finished iterations, to put back into the workspace's tables when those
    /// iterations are skipped.
    public private(set) var earlierRows: [ResultRecord] = []

    /// Opens `path`: when `resume` is set and the file exists, it keeps its finished iterations
    /// and rows outside loops and drops the rows of unfinished iterations; otherwise it starts the
    /// file afresh with `header`.
    public init(path: String, header: [String: String], resume: Bool) throws {
        self.path = path
        var keep: [ResultRecord] = [.header(header)]
        if resume, FileManager.default.fileExists(atPath: path) {
            let old = try Results.read(path)
            if case .header(let before)? = old.first {
                try Self.checkSameRun(before, header)
            }
            var done = Set<[Int]>()
            for case .done(let phase, let iteration) in old { done.insert([phase, iteration]) }
            keep = old.filter { record in
                switch record {
                case .header, .done: return true
                case .row(_, _, let key, _): return key.iteration.map { done.contains([key.phase, $0]) } ?? true
                }
            }
            if !keep.contains(where: { if case .header = $0 { return true } else { return false } }) {
                keep.insert(.header(header), at: 0)
            }
            finished = done
            earlierRows = keep.filter { if case .row = $0 { return true } else { return false } }
            for case .row(let table, _, let key, _) in keep { written.insert("\(table)\u{1F}\(key)") }
        }
        let text = keep.map(\.line).joined(separator: "\n") + "\n"
        try AtomicFile.write(text, to: path)
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw JSONError(description: "cannot open \(path) for writing")
        }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// The header fields that say which run wrote a file: resuming with another value of any of
    /// them would mix two runs' rows in one file.
    public static let runFields = ["script", "shard", "set"]

    private static func checkSameRun(_ before: [String: String], _ now: [String: String]) throws {
        for field in runFields where before[field] != now[field] {
            func shown(_ value: String?) -> String { value.map { "'\($0)'" } ?? "(none)" }
            throw JSONError(description: "cannot resume: this run's \(field) is \(shown(now[field])) but the file was written with "
                            + "\(shown(before[field])); resume with the same values or start a new results file")
        }
    }

    /// Whether a unit was finished by an earlier run.
    public func isFinished(phase: Int, iteration: Int) -> Bool {
        lock.withLock { finished.contains([phase, iteration]) }
    }

    /// Appends a record; a row the file already holds is not written twice.
    public func append(_ record: ResultRecord) throws {
        lock.lock()
        defer { lock.unlock() }
        if case .row(let table, _, let key, _) = record, !written.insert("\(table)\u{1F}\(key)").inserted { return }
        try handle.write(contentsOf: Data((record.line + "\n").utf8))
    }
}
