import ArgumentParser
import Foundation
import PrnLang
import PrnNotebook

extension Prn {
    /// `prn run file.prn [--notebook out.md] [--results out.jsonl] [--shard i/n] [--resume] [--set name=value …]`.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a script, showing its output like a notebook; stop at the first error.",
            discussion: """
                Scale-out: --shard i/n runs iteration k of every outermost `for` loop only when k mod n = i \
                (code outside loops runs in every shard; seeds are those of the full run). --results appends \
                every `row` to a JSON Lines file with its table and iteration; --resume skips the iterations \
                the file already has. `prn merge` combines the shards' files.
                """)

        @ArgumentParser.Argument(help: ArgumentHelp("The script to run (or a Jupyter notebook: its code cells).", valueName: "file.prn"),
                  completion: .file(extensions: ["prn", "ipynb"]))
        var file: String

        @Option(help: ArgumentHelp("Also write the run as a notebook (code cells, outputs, tables, plots, provenance): "
                                   + "Markdown, or Jupyter's nbformat 4.5 when the name ends in .ipynb.",
                                   valueName: "out.md"), completion: .file(extensions: ["md", "ipynb"]))
        var notebook: String?

        @Option(help: ArgumentHelp("Append every `row` to this JSON Lines file, tagged with its table and outermost-loop iteration.",
                                   valueName: "out.jsonl"), completion: .file(extensions: ["jsonl"]))
        var results: String?

        @Option(help: ArgumentHelp("Run only shard i of n (0-based): iterations k of outermost loops with k mod n = i.",
                                   valueName: "i/n"))
        var shard: Shard?

        @Flag(help: "With --results: keep the file and skip the outermost-loop iterations it already finished.")
        var resume = false

        @Option(name: .customLong("set"),
                help: ArgumentHelp("Replace the value of the script's first top-level `name = …` (a bare word is a symbol). Repeatable.",
                                   valueName: "name=value"))
        var overrides: [String] = []

        func validate() throws {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ValidationError("cannot read '\(file)'")
            }
            if resume && results == nil { throw ValidationError("--resume needs --results FILE") }
        }

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file), var source = String(data: data, encoding: .utf8) else {
                throw ValidationError("cannot read '\(file)' as UTF-8 text")
            }
            if file.lowercased().hasSuffix(".ipynb") {
                do { source = try Notebook.codeSource(ipynb: source) } catch { throw ValidationError("\(file): \(error)") }
            }
            let values = try overrideValues(source)
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
            if shard != nil || results != nil {
                let writer = try results.map { path in
                    do {
                        return try ResultsWriter(path: path, header: resultsHeader, resume: resume)
                    } catch {
                        throw ValidationError("--results \(path): \(error)")
                    }
                }
                interpreter.scaleOut = ScaleOut(shardIndex: shard?.index ?? 0, shardCount: shard?.count ?? 1, results: writer)
            }
            let outcome = interpreter.run(source: source, file: file, overrides: values)
            if let notebook {
                let directory = (file as NSString).deletingLastPathComponent
                var extra = [("script", file)]
                if !overrides.isEmpty { extra.append(("--set", overrides.joined(separator: ", "))) }
                if let shard { extra.append(("shard", shard.description)) }
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

        /// The parsed `--set` values, checked against the script's top-level assignments.
        private func overrideValues(_ source: String) throws -> [String: Value] {
            let assigned = Set(Interpreter.topLevelAssignments(in: source))
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
