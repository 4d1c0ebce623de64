import PrnNotebook

/// What one work unit left when a worker process ran it (`prn run --jobs N`): what it showed,
/// the rows it made, and how it ended. The coordinating process replays it in serial order.
public struct UnitOutcome {
    public enum Ending: Equatable {
        case finished
        /// A runtime error, rendered as the worker printed it.
        case failed(String)
        /// A signal stopped the worker.
        case interrupted
        /// The worker died (or none was left to run the unit); why, for the message.
        case lost(String)
    }

    public var events: [OutputEvent] = []
    public var rows: [ResultRecord] = []
    public var ending: Ending

    public init(events: [OutputEvent] = [], rows: [ResultRecord] = [], ending: Ending) {
        self.events = events
        self.rows = rows
        self.ending = ending
    }
}

/// One line a worker writes to the coordinator: a unit starts, an output of the unit, a row or
/// a unit's end (`ResultRecord`), or the worker's run ends.
public enum WorkerMessage {
    case start(phase: Int, unit: Int)
    case event(OutputEvent)
    case record(ResultRecord)
    /// The worker's whole run ended: "ok", "failed" or "interrupted".
    case end(String)

    /// The message as one JSON line (without the newline).
    public var line: String {
        switch self {
        case .start(let phase, let unit):
            return JSON.object([("kind", .string("start")), ("phase", .int(phase)), ("unit", .int(unit))]).serialized
        case .record(let record): return record.line
        case .end(let outcome): return JSON.object([("kind", .string("end")), ("outcome", .string(outcome))]).serialized
        case .event(let event): return Self.json(event).serialized
        }
    }

    /// Reads one line; nil for a line that is no message.
    public init?(line: String) {
        guard let json = try? JSON.parse(line), let kind = json["kind"]?.string else { return nil }
        switch kind {
        case "start":
            guard let phase = json["phase"]?.int, let unit = json["unit"]?.int else { return nil }
            self = .start(phase: phase, unit: unit)
        case "end": self = .end(json["outcome"]?.string ?? "failed")
        case "row", "done":
            guard let record = try? ResultRecord(line: line) else { return nil }
            self = .record(record)
        case "text": self = .event(.text(json["text"]?.string ?? ""))
        case "error": self = .event(.error(json["text"]?.string ?? ""))
        case "plot": self = .event(.plot(path: json["path"]?.string ?? "", caption: json["caption"]?.string ?? ""))
        case "table":
            guard let table = json["table"].flatMap(Self.table) else { return nil }
            self = .event(.table(table))
        case "value":
            // A shown value comes back as what it showed: a table value, or its text.
            if let table = json["table"].flatMap(Self.table) {
                self = .event(.value(.object(TableValue(table))))
            } else {
                self = .event(.text(json["text"]?.string ?? ""))
            }
        default: return nil
        }
    }

    private static func json(_ event: OutputEvent) -> JSON {
        switch event {
        case .cell(let code): return .object([("kind", .string("text")), ("text", .string(code))])
        case .text(let text): return .object([("kind", .string("text")), ("text", .string(text))])
        case .error(let text): return .object([("kind", .string("error")), ("text", .string(text))])
        case .plot(let path, let caption):
            return .object([("kind", .string("plot")), ("path", .string(path)), ("caption", .string(caption))])
        case .table(let table): return .object([("kind", .string("table")), ("table", json(table))])
        case .value(let value):
            var pairs: [(String, JSON)] = [("kind", .string("value")), ("text", .string(value.description))]
            if let table = value.displayedTable { pairs.append(("table", json(table))) }
            return .object(pairs)
        }
    }

    /// A table with every cell exact: non-finite numbers, which JSON lacks, as their text.
    private static func json(_ table: Table) -> JSON {
        var pairs: [(String, JSON)] = [("columns", .array(table.columns.map(JSON.string)))]
        if let title = table.title { pairs.append(("title", .string(title))) }
        pairs.append(("rows", .array(table.rows.map { row in
            .array(row.map { cell in
                if case .number(let x) = cell, !x.isFinite { return .object([("nonfinite", .string(x.description))]) }
                return cell.json
            })
        })))
        return .object(pairs)
    }

    private static func table(_ json: JSON) -> Table? {
        guard case .array(let columns)? = json["columns"], case .array(let rows)? = json["rows"] else { return nil }
        let cells: [[TableCell]] = rows.map { row in
            guard case .array(let items) = row else { return [] }
            return items.map { item in
                if let text = item["nonfinite"]?.string { return .number(Double(text) ?? .nan) }
                return TableCell(json: item)
            }
        }
        return Table(columns: columns.compactMap(\.string), rows: cells, title: json["title"]?.string)
    }
}
