import ArgumentParser
import Foundation

extension Prn {
    /// `prn run file.prn`.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a script, showing its output like a notebook; stop at the first error.")

        @Argument(help: ArgumentHelp("The script to run.", valueName: "file.prn"),
                  completion: .file(extensions: ["prn"]))
        var file: String

        func validate() throws {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ValidationError("cannot read '\(file)'")
            }
        }

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file), let source = String(data: data, encoding: .utf8) else {
                throw ValidationError("cannot read '\(file)' as UTF-8 text")
            }
            try Script.run(source: source, file: file)
        }
    }
}
