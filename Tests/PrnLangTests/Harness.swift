import Foundation
@testable import PrnLang

/// Runs prn source in-process and collects what it printed.
struct Capture {
    var stdout: [String] = []
    var stderr: [String] = []
    var outcome: Interpreter.Outcome = .ok
}

/// A fresh interpreter whose output is collected by `capture`.
final class Session {
    let interpreter: Interpreter
    private(set) var capture = Capture()
    private let box = Box()

    final class Box {
        var stdout: [String] = []
        var stderr: [String] = []
    }

    init(commands: CommandTable = .standard) {
        let box = self.box
        interpreter = Interpreter(
            commands: commands,
            output: { text in box.stdout += text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) },
            errorOutput: { text in box.stderr += text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) })
    }

    /// Runs one cell and returns what it printed (not what earlier cells printed).
    @discardableResult
    func run(_ source: String, file: String = "<test>", lineOffset: Int = 0, directory: String? = nil,
             overrides: [String: Value] = [:]) -> Capture {
        box.stdout = []
        box.stderr = []
        let outcome = interpreter.run(source: source, file: file, lineOffset: lineOffset, directory: directory, overrides: overrides)
        capture = Capture(stdout: box.stdout, stderr: box.stderr, outcome: outcome)
        return capture
    }
}

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs `body` with a fresh temporary folder as the current directory, where prn source's relative
/// file names (`save m to "m.safetensors"`) land; the folder is removed after.
func inScratchFolder<T>(_ body: (URL) throws -> T) throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("prn-scratch-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let saved = FileManager.default.currentDirectoryPath
    _ = FileManager.default.changeCurrentDirectoryPath(folder.path)
    defer {
        _ = FileManager.default.changeCurrentDirectoryPath(saved)
        try? FileManager.default.removeItem(at: folder)
    }
    return try body(folder)
}
