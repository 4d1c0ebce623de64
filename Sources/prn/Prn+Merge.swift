import ArgumentParser
import Foundation
import PrnLang
import PrnNotebook

extension Prn {
    /// `prn merge a.jsonl b.jsonl … [--notebook out.md]`.
    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Combine the results files of shards into their tables and show them.",
            discussion: "Rows are ordered as the unsharded run makes them (by unit, then as written); "
                + "rows made outside loops, which every shard writes, appear once.")

        @ArgumentParser.Argument(help: ArgumentHelp("Results files written by `prn run --results`.", valueName: "file.jsonl"),
                  completion: .file(extensions: ["jsonl"]))
        var files: [String]

        @Option(help: ArgumentHelp("Also write the tables as a Markdown notebook.", valueName: "out.md"),
                completion: .file(extensions: ["md"]))
        var notebook: String?

        func validate() throws {
            guard !files.isEmpty else { throw ValidationError("give at least one results file") }
        }

        func run() throws {
            var records: [[ResultRecord]] = []
            for file in files {
                do { records.append(try Results.read(file)) } catch {
                    Interpreter.writeStandardError("error: \(error)")
                    throw ExitCode(1)
                }
            }
            if let problem = Self.shardProblem(records) {
                Interpreter.writeStandardError("error: \(problem)")
                throw ExitCode(1)
            }
            let tables = Results.merge(records).map { name, table in
                var titled = table
                if titled.title == nil { titled.title = name }
                return titled
            }
            if tables.isEmpty { print("(no rows)") }
            print(tables.map(\.text).joined(separator: "\n\n"))
            guard let notebook else { return }
            var header: [(String, String)] = [("prn", PrnVersion.current), ("date", Provenance.date), ("CPU", Provenance.cpu)]
            for (file, fileRecords) in zip(files, records) {
                for case .header(let fields) in fileRecords.prefix(1) {
                    let about = fields.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                    header.append((file, about))
                }
            }
            let cells = tables.map { NotebookCell(code: "", outputs: [.table($0)]) }
            do {
                try Notebook(title: "merge of " + files.joined(separator: ", "), provenance: header, cells: cells).write(to: notebook)
            } catch {
                Interpreter.writeStandardError("error: cannot write the notebook \(notebook): \(error)")
                throw ExitCode(1)
            }
        }

        /// What is wrong with the set of shards, if anything: every shard `i/n` of the run must be
        /// there, or its rows would be silently missing from the tables.
        static func shardProblem(_ files: [[ResultRecord]]) -> String? {
            var shards: [(index: Int, count: Int)] = []
            for case .header(let fields)? in files.map(\.first) {
                guard let parts = fields["shard"]?.split(separator: "/"), parts.count == 2,
                      let index = Int(parts[0]), let count = Int(parts[1]) else { continue }
                shards.append((index, count))
            }
            let counts = Set(shards.map(\.count))
            guard counts.count <= 1 else {
                return "the files come from runs split into different numbers of shards (\(counts.sorted().map(String.init).joined(separator: ", ")))"
            }
            guard let count = counts.first else { return nil }
            let missing = Set(0..<count).subtracting(shards.map(\.index)).sorted()
            guard !missing.isEmpty else { return nil }
            return "missing shard " + missing.map { "\($0)/\(count)" }.joined(separator: ", ")
                + ": give the results file of every shard"
        }
    }
}
