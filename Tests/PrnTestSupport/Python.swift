import Foundation

/// Runs `python3 -c program` with `input` on standard input and returns its standard output: the
/// one way tests reach numpy and scipy as independent references.
public enum Python {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Skips (or, where references are required, fails) the test unless python3 can import every
    /// one of `modules`. A reference that is installed but breaks is a failure, never a skip.
    public static func require(_ modules: [String]) throws {
        try References.require(canImport(modules), "python3 with " + modules.joined(separator: " and "))
    }

    /// Whether `python3` imports all of `modules`; asked once per set of modules.
    public static func canImport(_ modules: [String]) -> Bool {
        let key = modules.sorted().joined(separator: ",")
        return importable.withLock { known in
            if let answer = known[key] { return answer }
            let answer = (try? execute("import " + (modules.isEmpty ? "sys" : key), input: "", arguments: [])) != nil
            known[key] = answer
            return answer
        }
    }

    private static let importable = Locked<[String: Bool]>([:])

    /// Runs `program` after checking that python3 imports `modules` (see `require`).
    public static func run(_ program: String, input: String, arguments: [String] = [],
                           needs modules: [String] = ["numpy"]) throws -> String {
        try require(modules)
        return try execute(program, input: input, arguments: arguments)
    }

    private static func execute(_ program: String, input: String, arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", program] + arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Write on another thread: a large payload would fill the pipe while python's output
        // waits to be read.
        let writer = Thread {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "python3 exited with status \(process.terminationStatus): "
                          + String(decoding: errors, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A value behind a lock, for caches that tests on several threads may share.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
