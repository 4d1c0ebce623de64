import Foundation
import XCTest

/// The built `prn` run as a child process whose standard output is read line by line as it
/// arrives (`PrnBinary.Running` collects it whole): the tests look at a run while it is going.
final class PrnProcess {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private let lines = LineQueue()

    /// Starts `prn arguments…` in `directory` with `environment` added to this process's.
    init(_ arguments: [String], directory: URL, environment: [String: String] = [:]) throws {
        process.executableURL = PrnBinary.url
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = output
        process.standardError = errors
        let lines = self.lines
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            lines.append(data)
        }
        try process.run()
    }

    /// Waits for the next line of standard output; nil when the process ended or `timeout`
    /// passed first (a guard against a hung test, not a timing assertion).
    func nextLine(timeout: TimeInterval = 120) -> String? { lines.next(timeout: timeout) }

    /// Reads lines until one starts with `prefix`; false when the output ended without it.
    func waitForLine(prefix: String, timeout: TimeInterval = 120) -> Bool {
        while let next = nextLine(timeout: timeout) {
            if next.hasPrefix(prefix) { return true }
        }
        return false
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the exit (at most two minutes: then it is killed and the test fails); returns the
    /// status (128 + n when killed by signal n) and standard error.
    func finish(file: StaticString = #filePath, line: UInt = #line) -> (status: Int32, stderr: String) {
        process.waitUntilExitOrKill(file: file, line: line)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return (status, stderr)
    }
}

/// Bytes from a pipe cut into lines, handed to a reader that waits for them.
private final class LineQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var buffer = Data()
    private var ready: [String] = []
    private var ended = false

    func append(_ data: Data) {
        condition.lock()
        defer { condition.unlock(); condition.broadcast() }
        if data.isEmpty {
            if !buffer.isEmpty { ready.append(String(decoding: buffer, as: UTF8.self)) }
            buffer = Data()
            ended = true
            return
        }
        buffer.append(data)
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            ready.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
            buffer = Data(buffer[(newline + 1)...])
        }
    }

    func next(timeout: TimeInterval) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !ended {
            if !condition.wait(until: deadline) { return nil }
        }
        return ready.isEmpty ? nil : ready.removeFirst()
    }
}
