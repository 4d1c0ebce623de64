import Foundation

/// `run "other.prn"`: another script in the same workspace.
extension Interpreter {
    /// Runs the script at `path` (relative paths from the running script's folder). It shares
    /// the workspace, the global seed and the enclosing loops; its errors are reported against
    /// its own lines, with a note naming where it was run from.
    func runFile(_ path: String, call: Token) throws {
        guard let frame = frames.last else { return }
        guard frames.count <= limits.runDepth else {
            throw Diagnostic("'run' is nested more than \(limits.runDepth) deep; does a script run itself?", at: call)
        }
        let resolved = path.hasPrefix("/") ? path : (frame.directory as NSString).appendingPathComponent(path)
        var isDirectory: ObjCBool = false
        let file = Self.displayName(path, from: frame.file)
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileManager.default.contents(atPath: resolved) else {
            throw Diagnostic("cannot read '\(path)'" + (file == path ? "" : " (looked for \(file))"), at: call)
        }
        guard let source = String(data: data, encoding: .utf8) else {
            throw Diagnostic("'\(path)' is not UTF-8 text", at: call)
        }
        let note = "run from \(frame.file):\(call.location.line + frame.lineOffset):\(call.location.column)"
        let renderer = DiagnosticRenderer(file: file, source: source)

        let (statements, _, syntaxErrors) = Parser.program(source, commands: commands)
        guard syntaxErrors.isEmpty else {
            throw NestedFailure(errors: syntaxErrors.map(renderer.render), notes: [note])
        }

        frames.append(Frame(file: file, directory: (resolved as NSString).deletingLastPathComponent,
                            lineOffset: 0, callSite: SourceLocation(line: call.location.line + frame.lineOffset,
                                                                     column: call.location.column)))
        defer { frames.removeLast() }
        try deeper(at: call.location) {
            for statement in statements {
                do {
                    try execute(statement)
                } catch let diagnostic as Diagnostic {
                    throw NestedFailure(errors: [renderer.render(diagnostic)], notes: [note])
                } catch var failure as NestedFailure {
                    failure.notes.append(note)
                    throw failure
                }
            }
        }
    }

    /// How a script run from `outer` is named in messages: its path joined to the folder `outer`
    /// is shown with (`Tests/run/main.prn` runs `lib.prn` → `Tests/run/lib.prn`).
    static func displayName(_ path: String, from outer: String) -> String {
        if path.hasPrefix("/") || outer.hasPrefix("<") { return path }
        let folder = (outer as NSString).deletingLastPathComponent
        return folder.isEmpty ? path : (folder as NSString).appendingPathComponent(path)
    }
}
