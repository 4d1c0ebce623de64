import ArgumentParser
import CLibEdit
import Foundation
import PrnLang
import PrnNotebook

/// The `prn` command line: the REPL by default, `-e` for statements, `run` for scripts and
/// `bench` for throughput. Exit status: 0 ok, 1 error, 2 usage, 128 + the signal's number when a
/// signal stopped a run (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
@main
struct Prn: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prn",
        abstract: "A notebook-style scripting REPL for pruning-at-initialization research.",
        discussion: "With no arguments, prn opens the REPL (or, when standard input is not a terminal, runs the lines it reads).",
        version: PrnVersion.current,
        subcommands: [Run.self, Merge.self, Bench.self, KernelCommand.self])

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

    /// Exits for an error: status 2 for usage errors, ArgumentParser's own handling otherwise.
    static func fail(_ error: Error) -> Never {
        if exitCode(for: error) == .validationFailure {
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
        exit(withError: error)
    }

    /// Parses and runs, mapping ArgumentParser's usage errors to exit status 2.
    static func main() {
        prn_line_buffer_stdout()
        Signals.install()
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            fail(error)
        }
        do {
            try command.run()
        } catch let error as ValidationError {
            // A usage problem found while starting the run (a bad --set): the message says it all.
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            Foundation.exit(2)
        } catch {
            fail(error)
        }
    }
}

/// Runs a whole script: stop at the first error.
enum Script {
    static func run(source: String, file: String) throws {
        Signals.installForRuns()
        try exit(Interpreter().run(source: source, file: file), file: file)
    }

    /// Maps a run's outcome to the exit status: 0, 1 (error) or 128 + the signal that stopped it.
    static func exit(_ outcome: Interpreter.Outcome, file: String) throws {
        switch outcome {
        case .ok: return
        case .failed: throw ExitCode(1)
        case .interrupted:
            Interpreter.writeStandardError("\(file): \(interruption)")
            throw ExitCode(Signals.exitStatus(Interrupt.signal))
        }
    }

    /// What stopped the run, for messages and the notebook: "interrupted by SIGTERM".
    static var interruption: String { "interrupted by \(Signals.name(Interrupt.signal))" }
}
