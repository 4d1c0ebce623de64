import ArgumentParser
import Foundation
import PrnKernel
import PrnLang
import PrnNotebook

extension Prn {
    /// `prn run file.prn [--notebook out.md] [--results out.jsonl] [--shard i/n] [--resume] [--jobs N] [--set name=value …]`.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a script, showing its output like a notebook; stop at the first error.",
            discussion: """
                Scale-out works on units: the iterations of a top-level loop nest (a `for` whose body is \
                exactly one `for` counts with it; `for a … { for b … { … } }` has |a|·|b| units). \
                --jobs N runs the units in N worker processes pulling from a queue, each with its share of \
                the threads, and shows everything in serial order; without --jobs, a script with a top-level \
                loop uses one worker per thread (on these 2-core machines two single-threaded processes beat \
                one with two threads). --shard i/n runs unit u only when u mod n = i (code outside loops runs \
                in every shard; seeds are those of the serial run). --results appends every `row` to a JSON \
                Lines file with its table and unit as units finish; --resume skips the units the file already \
                has. `prn merge` combines the shards' files. Output is flushed line by line; SIGTERM, SIGHUP \
                and SIGINT stop the run with the notebook and results so far written (exit 143, 129, 130).
                """)

        @ArgumentParser.Argument(help: ArgumentHelp("The script to run (or a Jupyter notebook: its code cells).", valueName: "file.prn"),
                  completion: .file(extensions: ["prn", "ipynb"]))
        var file: String

        @Option(help: ArgumentHelp("Also write the run as a notebook (code cells, outputs, tables, plots, provenance): "
                                   + "Markdown, or Jupyter's nbformat 4.5 when the name ends in .ipynb.",
                                   valueName: "out.md"), completion: .file(extensions: ["md", "ipynb"]))
        var notebook: String?

        @Option(help: ArgumentHelp("Append every `row` to this JSON Lines file, tagged with its table and unit, as units finish.",
                                   valueName: "out.jsonl"), completion: .file(extensions: ["jsonl"]))
        var results: String?

        @Option(help: ArgumentHelp("Run only shard i of n (0-based): units u with u mod n = i.",
                                   valueName: "i/n"))
        var shard: Shard?

        @Flag(help: "With --results: keep the file and skip the units it already finished.")
        var resume = false

        @Option(help: ArgumentHelp("Run the units in N worker processes (1: this process only). Default: one per thread when the script has a top-level loop.",
                                   valueName: "N"))
        var jobs: Int?

        @Option(help: .hidden)
        var worker: String?

        @Option(name: .customLong("set"),
                help: ArgumentHelp("Replace the value of the script's first top-level `name = …` (a bare word is a symbol). Repeatable.",
                                   valueName: "name=value"))
        var overrides: [String] = []

        func validate() throws {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ValidationError("cannot read '\(file)'")
            }
            if resume && results == nil { throw ValidationError("--resume needs --results FILE") }
            if let jobs, jobs < 1 { throw ValidationError("--jobs needs a positive number") }
        }

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file), var source = String(data: data, encoding: .utf8) else {
                throw ValidationError("cannot read '\(file)' as UTF-8 text")
            }
            if file.lowercased().hasSuffix(".ipynb") {
                do { source = try Notebook.codeSource(ipynb: source) } catch { throw ValidationError("\(file): \(error)") }
            }
            let values = try overrideValues(source)
            Signals.installForRuns()
            if let worker {
                throw ExitCode(Worker.run(source: source, file: file, overrides: values, folder: URL(fileURLWithPath: worker), shard: shard))
            }
            let jobs = self.jobs ?? (Parallel.threads >= 2 && Interpreter.hasTopLevelLoop(source) ? Parallel.threads : 1)
            let interpreter = Interpreter()
            let terminal = interpreter.sink
            let recorder = NotebookRecorder()
            if notebook != nil {
                interpreter.announcesCells = true
                recorder.start(interpreter)
                interpreter.sink = { event in
                    recorder.record(event)
                    terminal(event)
                }
            }
            var pool: JobPool?
            if shard != nil || results != nil || jobs > 1 {
                let writer = try results.map { path in
                    do {
                        return try ResultsWriter(path: path, header: resultsHeader, resume: resume)
                    } catch {
                        throw ValidationError("--results \(path): \(error)")
                    }
                }
                let scaleOut = ScaleOut(shardIndex: shard?.index ?? 0, shardCount: shard?.count ?? 1, results: writer)
                scaleOut.checkpoints = results.map { $0 + ".checkpoints" }
                if let folder = scaleOut.checkpoints, !resume { try? FileManager.default.removeItem(atPath: folder) }
                interpreter.scaleOut = scaleOut
                if jobs > 1 {
                    let jobPool = try JobPool(writer: writer, finished: writer?.finished ?? [])
                    scaleOut.remote = { phase, unit in
                        try jobPool.outcome(phase: phase, unit: unit, live: { interpreter.sink($0) })
                    }
                    try jobPool.start(count: jobs, arguments: workerArguments(jobPool.claims), threads: max(1, Parallel.threads / jobs),
                                      checkpoints: scaleOut.checkpoints)
                    pool = jobPool
                }
            }
            let outcome = interpreter.run(source: source, file: file, overrides: values)
            pool?.stop()
            // Every unit's checkpoints go when it finishes; the folder goes when it is empty.
            if let folder = interpreter.scaleOut?.checkpoints, (try? FileManager.default.contentsOfDirectory(atPath: folder))?.isEmpty == true {
                try? FileManager.default.removeItem(atPath: folder)
            }
            // The cell a signal stopped says so, and the notebook holds everything up to it.
            if outcome == .interrupted { recorder.record(.error(Script.interruption)) }
            if let notebook {
                let directory = (file as NSString).deletingLastPathComponent
                var extra = [("script", file)]
                if !overrides.isEmpty { extra.append(("--set", overrides.joined(separator: ", "))) }
                if let shard { extra.append(("shard", shard.description)) }
                if jobs > 1 { extra.append(("jobs", "\(jobs) worker processes")) }
                let header = recorder.header(for: interpreter, directory: directory.isEmpty ? "." : directory, extra: extra)
                do {
                    try recorder.notebook(title: (file as NSString).lastPathComponent, header: header).write(to: notebook)
                } catch {
                    Interpreter.writeStandardError("error: cannot write the notebook \(notebook): \(error)")
                    throw ExitCode(1)
                }
            }
            try Script.exit(outcome, file: file)
        }

        /// How a worker process is started: this script, its settings and shard, claiming in `folder`.
        private func workerArguments(_ folder: URL) -> [String] {
            var arguments = ["run", file, "--worker", folder.path, "--jobs", "1"]
            for item in overrides { arguments += ["--set", item] }
            if let shard { arguments += ["--shard", shard.description] }
            return arguments
        }

        /// The parsed `--set` values, checked against the script's top-level assignments.
        private func overrideValues(_ source: String) throws -> [String: Value] {
            // A script that does not parse fails when run, with its parser's errors.
            guard let names = Interpreter.topLevelAssignments(in: source) else { return [:] }
            let assigned = Set(names)
            var values: [String: Value] = [:]
            for item in overrides {
                guard let equal = item.firstIndex(of: "=") else {
                    throw ValidationError("--set \(item): expected name=value")
                }
                let name = String(item[..<equal]).trimmingCharacters(in: .whitespaces)
                guard assigned.contains(name) else {
                    let close = Suggest.closest(to: name, in: Array(assigned)).map { "; did you mean '\($0)'?" } ?? ""
                    throw ValidationError("--set \(name): \(file) has no top-level assignment '\(name) = …'\(close)")
                }
                do {
                    values[name] = try Interpreter.overrideValue(String(item[item.index(after: equal)...]))
                } catch let diagnostic as Diagnostic {
                    throw ValidationError("--set \(item): \(diagnostic.message)")
                }
            }
            return values
        }

        private var resultsHeader: [String: String] {
            var header = ["script": file, "prn": PrnVersion.current, "date": Provenance.date]
            header["shard"] = (shard ?? Shard(index: 0, count: 1)).description
            if !overrides.isEmpty { header["set"] = overrides.joined(separator: " ") }
            return header
        }
    }

    /// `--shard i/n`.
    struct Shard: ExpressibleByArgument, CustomStringConvertible {
        let index: Int
        let count: Int

        init(index: Int, count: Int) {
            self.index = index
            self.count = count
        }

        init?(argument: String) {
            let parts = argument.split(separator: "/")
            guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else { return nil }
            index = i
            count = n
        }

        var description: String { "\(index)/\(count)" }
    }
}
