import ArgumentParser
import CLibEdit
import Foundation
import PrnJupyter
import PrnLang

extension Prn {
    /// `prn kernel -f FILE` (Jupyter starts it so) and `prn kernel install [--user] [--prefix DIR]`.
    struct KernelCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kernel",
            abstract: "Serve prn to Jupyter (JupyterLab, jupyter console, nbclient) as a kernel.",
            discussion: "Jupyter runs `prn kernel -f CONNECTION_FILE` itself once `prn kernel install` has registered prn; "
                + "messages not signed with the connection file's key are dropped.",
            subcommands: [Install.self])

        @Option(name: .customShort("f"), help: ArgumentHelp("The connection file Jupyter wrote (ports and signing key).",
                                                            valueName: "connection.json"),
                completion: .file(extensions: ["json"]))
        var connectionFile: String?

        func run() throws {
            guard let connectionFile else {
                throw ValidationError("give the connection file Jupyter wrote: prn kernel -f FILE (or run `prn kernel install`)")
            }
            // Jupyter interrupts a cell with SIGINT: set the flag the interpreter polls, and never
            // exit for it as the REPL does on a second Ctrl-C.
            _ = prn_install_signal(SIGINT) { _ in Interrupt.request() }
            do {
                try JupyterKernel(connection: ConnectionInfo.read(path: connectionFile)).serve()
            } catch {
                Interpreter.writeStandardError("prn kernel: error: \(error)")
                throw ExitCode(1)
            }
        }

        /// `prn kernel install`.
        struct Install: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Register prn with Jupyter: write kernels/prn/kernel.json naming this prn executable.")

            @Flag(help: "Install for the current user (~/.local/share/jupyter, or $JUPYTER_DATA_DIR) instead of system-wide.")
            var user = false

            @Option(help: ArgumentHelp("Install under DIR/share/jupyter (a virtualenv or conda prefix). Default: /usr/local.",
                                       valueName: "DIR"), completion: .directory)
            var prefix: String?

            func validate() throws {
                if user && prefix != nil { throw ValidationError("give --user or --prefix, not both") }
            }

            func run() throws {
                let directory = user ? KernelSpec.userDirectory : KernelSpec.directory(prefix: prefix ?? "/usr/local")
                do {
                    let folder = try KernelSpec(executable: Self.executablePath).install(in: directory)
                    print("installed the prn kernel in \(folder)")
                } catch {
                    Interpreter.writeStandardError("error: cannot install the kernelspec in \(directory): \(error.localizedDescription)")
                    throw ExitCode(1)
                }
            }

            /// This executable's absolute path, symbolic links resolved.
            static var executablePath: String {
                if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
                let argument = CommandLine.arguments[0]
                let absolute = argument.hasPrefix("/") ? argument
                    : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(argument).path
                return URL(fileURLWithPath: absolute).resolvingSymlinksInPath().path
            }
        }
    }
}
