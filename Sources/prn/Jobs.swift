import CLibEdit
import Foundation
import PrnLang
import PrnNotebook

/// `prn run --jobs N`: the work units of a script's grids run in N worker processes, which pull
/// them from a shared queue (the first worker to reach a unit takes it, so uneven units balance).
/// This process — the coordinator — runs the code outside loops and replays each unit's outputs
/// and rows in serial order, so what it prints, its tables, notebook and files are the serial
/// run's. Rows go to the results file as units finish, in whatever order they do.
///
/// A worker is `prn run file --worker DIR` with the same `--set` and `--shard`: it runs the
/// script up to the end of its last top-level loop, silently, claims a unit by creating the file
/// `DIR/PHASE-UNIT` (exclusive create: one winner), runs the units it claimed and reports them as
/// JSON lines on its standard output (`WorkerMessage`).
final class JobPool: @unchecked Sendable {
    /// Where workers claim units.
    let claims: URL
    private var workers: [Process] = []
    private let condition = NSCondition()
    /// What workers reported, by phase and unit.
    private var units: [[Int]: UnitOutcome] = [:]
    /// Units that ended: finished, failed, interrupted.
    private var ended = Set<[Int]>()
    private var alive = 0
    /// Why the pool cannot finish every unit any more (a worker died), once that happened.
    private var broken: String?
    /// The last error a worker reported outside a unit, for the message when no worker is left.
    private var workerError: String?
    private let writer: ResultsWriter?

    /// `finished` units (from `--resume`) are claimed up front, so no worker runs them again.
    init(writer: ResultsWriter?, finished: Set<[Int]>) throws {
        claims = FileManager.default.temporaryDirectory.appendingPathComponent("prn-jobs-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: claims, withIntermediateDirectories: true)
        self.writer = writer
        for unit in finished { _ = FileManager.default.createFile(atPath: Self.claimPath(claims, unit[0], unit[1]), contents: nil) }
    }

    static func claimPath(_ folder: URL, _ phase: Int, _ unit: Int) -> String {
        folder.appendingPathComponent("\(phase)-\(unit)").path
    }

    /// Starts `count` workers, `prn arguments…`, each with `threads` threads, their trainings
    /// saving epochs under `checkpoints`.
    func start(count: Int, arguments: [String], threads: Int, checkpoints: String?) throws {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        for index in 0..<count {
            let process = Process()
            process.executableURL = Bundle.main.executableURL ?? executable
            process.arguments = arguments
            var environment = ProcessInfo.processInfo.environment
            environment["PRN_THREADS"] = String(threads)
            environment["PRN_PARENT_PID"] = String(getpid())
            environment["PRN_UNIT_CHECKPOINTS"] = checkpoints
            process.environment = environment
            let output = Pipe(), errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            process.standardInput = FileHandle.nullDevice
            try process.run()
            workers.append(process)
            condition.lock()
            alive += 1
            condition.unlock()
            Thread.detachNewThread { [self] in read(output.fileHandleForReading, worker: index, process: process) }
            Thread.detachNewThread { Self.forward(errors.fileHandleForReading) }
        }
    }

    /// What a worker's run of `unit` of the nest `phase` left. Its events are shown as they
    /// arrive through `live` (so the unit next in serial order prints as it runs); the rest of
    /// the outcome is returned when the unit has ended. Throws `Interrupted` on a signal.
    func outcome(phase: Int, unit: Int, live: (OutputEvent) -> Void) throws -> UnitOutcome {
        let key = [phase, unit]
        var shown = 0
        while true {
            condition.lock()
            let current = units[key]
            let done = ended.contains(key)
            let failure = broken ?? (alive == 0 ? "no worker process is left to run it" + (workerError.map { "; one said:\n" + $0 } ?? "") : nil)
            if current?.events.count ?? 0 <= shown && !done && failure == nil {
                _ = condition.wait(until: Date().addingTimeInterval(0.2))
            }
            condition.unlock()
            if let current {
                // An error may be the unit's last word, which the coordinator reports itself: hold
                // it back until the unit's ending says.
                var showable = current.events.count
                if !done, case .error? = current.events.last { showable -= 1 }
                for event in current.events[min(shown, showable)..<showable] where !Self.isFinalError(event, in: current, done: done) {
                    live(event)
                }
                shown = max(shown, showable)
                if done {
                    var rest = current
                    rest.events = []
                    return rest
                }
            }
            if let failure, !done { return UnitOutcome(ending: .lost("unit \(unit) of this loop did not finish: \(failure)")) }
            if Interrupt.requested { throw Interrupted() }
        }
    }

    /// A failed unit's last event is its error, which the coordinator reports as its own.
    private static func isFinalError(_ event: OutputEvent, in outcome: UnitOutcome, done: Bool) -> Bool {
        guard done, case .failed = outcome.ending, case .error = event else { return false }
        return true
    }

    /// Asks the workers to stop (SIGTERM: each ends its unit at the next check) and waits for them.
    func stop() {
        for process in workers where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        for process in workers { process.waitUntilExit() }
        try? FileManager.default.removeItem(at: claims)
    }

    /// Reads one worker's messages until its output ends.
    private func read(_ handle: FileHandle, worker: Int, process: Process) {
        var current: [Int]?
        var pending = Data()
        var endedCleanly = false
        while true {
            let data = handle.availableData
            if data.isEmpty { break }
            pending.append(data)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending = Data(pending[(newline + 1)...])
                guard let message = WorkerMessage(line: line) else { continue }
                condition.lock()
                switch message {
                case .start(let phase, let unit):
                    current = [phase, unit]
                    units[[phase, unit]] = UnitOutcome(ending: .finished)
                case .event(let event):
                    if let current {
                        units[current]?.events.append(event)
                    } else if case .error(let text) = event {
                        workerError = text
                    }
                case .record(let record):
                    try? writer?.append(record)
                    if case .row = record, let current { units[current]?.rows.append(record) }
                    if case .done(let phase, let unit) = record {
                        ended.insert([phase, unit])
                        current = nil
                    }
                case .end(let outcome):
                    endedCleanly = true
                    if let unit = current {
                        switch outcome {
                        case "interrupted": units[unit]?.ending = .interrupted
                        default:
                            var error = "a worker process failed"
                            if let events = units[unit]?.events, case .error(let text)? = events.last { error = text }
                            units[unit]?.ending = .failed(error)
                        }
                        ended.insert(unit)
                        current = nil
                    }
                }
                condition.broadcast()
                condition.unlock()
            }
        }
        process.waitUntilExit()
        condition.lock()
        alive -= 1
        if !endedCleanly, broken == nil {
            broken = "worker process \(worker + 1) exited with status \(process.terminationStatus) without finishing"
        }
        condition.broadcast()
        condition.unlock()
    }

    /// Passes a worker's standard error on, whole lines only, leaving out live progress bars.
    private static func forward(_ handle: FileHandle) {
        var pending = Data()
        while true {
            let data = handle.availableData
            if data.isEmpty { break }
            pending.append(data)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[pending.startIndex...newline]
                pending = Data(pending[(newline + 1)...])
                if !line.contains(UInt8(ascii: "\r")) { FileHandle.standardError.write(Data(line)) }
            }
        }
    }
}

/// The worker side of `JobPool`.
enum Worker {
    /// Runs `source` as a worker claiming units in `folder`; returns the exit status.
    static func run(source: String, file: String, overrides: [String: Value], folder: URL, shard: Prn.Shard?) -> Int32 {
        prn_die_with_parent()
        if let parent = ProcessInfo.processInfo.environment["PRN_PARENT_PID"].flatMap(Int32.init), getppid() != parent {
            return 1   // the coordinator died before this worker could tie itself to it
        }
        let scaleOut = ScaleOut(shardIndex: shard?.index ?? 0, shardCount: shard?.count ?? 1)
        scaleOut.checkpoints = ProcessInfo.processInfo.environment["PRN_UNIT_CHECKPOINTS"]
        scaleOut.claim = { phase, unit in
            let fd = open(JobPool.claimPath(folder, phase, unit), O_CREAT | O_EXCL | O_WRONLY, 0o644)
            if fd < 0 { return false }
            close(fd)
            return true
        }
        scaleOut.onUnitStart = { phase, unit in send(.start(phase: phase, unit: unit)) }
        scaleOut.onRecord = { send(.record($0)) }
        let interpreter = Interpreter(sink: { _ in })
        interpreter.sink = { event in
            // Errors always: one that ends a unit comes after the nest has unwound.
            if scaleOut.unit != nil { send(.event(event)) } else if case .error = event { send(.event(event)) }
        }
        interpreter.scaleOut = scaleOut
        let outcome = interpreter.run(source: Interpreter.throughLastLoop(source), file: file, overrides: overrides)
        switch outcome {
        case .ok: send(.end("ok"))
        case .failed: send(.end("failed"))
        case .interrupted: send(.end("interrupted"))
        }
        return outcome == .failed ? 1 : 0
    }

    /// One message, one write: the coordinator reads whole lines.
    private static func send(_ message: WorkerMessage) {
        let data = Data((message.line + "\n").utf8)
        data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(STDOUT_FILENO, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { _exit(1) }   // the coordinator is gone
                done += n
            }
        }
    }
}
