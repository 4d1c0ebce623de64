import ArgumentParser
import Foundation
import PrnLang

/// The `prn` command line: the REPL by default, `-e` for statements, `run` for scripts and
/// `bench` for throughput. Exit status: 0 ok, 1 error, 2 usage, 130 interrupted.
@main
struct Prn: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prn",
        abstract: "A notebook-style scripting REPL for pruning-at-initialization research.",
        discussion: "With no arguments, prn opens the REPL (or, when standard input is not a terminal, runs the lines it reads).",
        subcommands: [Run.self, Bench.self])

    @Option(name: .customShort("e"),
            help: ArgumentHelp("Run these statements (separate several with newlines; repeat -e to add more) and exit.",
                               valueName: "statements"))
    var statements: [String] = []

    mutating func run() throws {
        if !statements.isEmpty {
            try Script.run(source: statements.joined(separator: "\n"), file: "<-e>")
            return
        }
        let status = REPL.start()
        if status != 0 { throw ExitCode(status) }
    }

    /// Parses and runs, mapping ArgumentParser's usage errors to exit status 2.
    static func main() {
        Signals.install()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Runs a whole script: stop at the first error.
enum Script {
    static func run(source: String, file: String) throws {
        let interpreter = Interpreter()
        switch interpreter.run(source: source, file: file) {
        case .ok: return
        case .failed: throw ExitCode(1)
        case .interrupted:
            Interpreter.writeStandardError("\(file): interrupted")
            throw ExitCode(130)
        }
    }
}
