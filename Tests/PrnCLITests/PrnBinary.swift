import Foundation
import XCTest

/// The built `prn` executable, run as a user runs it: arguments, standard input, environment and
/// working directory in; exit status, standard output and standard error out.
///
/// It is found beside the test bundle in the build's products folder (`swift test` builds every
/// product first); `PRN_BINARY` names another one.
enum PrnBinary {
    static let url: URL = {
        if let path = ProcessInfo.processInfo.environment["PRN_BINARY"] { return URL(fileURLWithPath: path) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        // On macOS the bundle's executable sits in prnPackageTests.xctest/Contents/MacOS.
        while folder.pathExtension == "xctest" || ["Contents", "MacOS"].contains(folder.lastPathComponent) {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("prn")
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLastEmpty() }
        var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLastEmpty() }
    }

    /// Runs `prn arguments…` to its end.
    static func run(_ arguments: [String], stdin: String = "", in directory: URL? = nil,
                    environment: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let process = try start(arguments, in: directory, environment: environment)
        return try process.finish(stdin: stdin)
    }

    /// Starts `prn arguments…` with pipes for its standard streams.
    static func start(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws -> Running {
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw Missing(description: "no prn executable at \(url.path): build it (swift build -c release) or set PRN_BINARY")
        }
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var merged = ProcessInfo.processInfo.environment
        merged["PRN_THREADS"] = merged["PRN_THREADS"] ?? "1"
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let running = Running(process)
        try process.run()
        running.startReading()
        return running
    }

    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    /// A started `prn` whose output is collected while it runs.
    final class Running {
        let process: Process
        private let input = Pipe(), output = Pipe(), errors = Pipe()
        private let lock = NSLock()
        private var stdoutData = Data(), stderrData = Data()
        private let done = DispatchGroup()

        init(_ process: Process) {
            self.process = process
            process.standardInput = input
            process.standardOutput = output
            process.standardError = errors
        }

        func startReading() {
            for (pipe, isError) in [(output, false), (errors, true)] {
                done.enter()
                Thread.detachNewThread { [self] in
                    while true {
                        let chunk = pipe.fileHandleForReading.availableData
                        if chunk.isEmpty { break }
                        lock.lock()
                        if isError { stderrData.append(chunk) } else { stdoutData.append(chunk) }
                        lock.unlock()
                    }
                    done.leave()
                }
            }
        }

        var stderrSoFar: String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: stderrData, as: UTF8.self)
        }

        func signal(_ number: Int32) { kill(process.processIdentifier, number) }

        /// Writes `stdin`, closes it, and waits for the end (at most two minutes: then it is killed).
        func finish(stdin: String = "") throws -> Result {
            if !stdin.isEmpty { input.fileHandleForWriting.write(Data(stdin.utf8)) }
            try? input.fileHandleForWriting.close()
            process.waitUntilExitOrKill()
            done.wait()
            lock.lock()
            defer { lock.unlock() }
            return Result(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                          stderr: String(decoding: stderrData, as: UTF8.self))
        }
    }
}

extension Process {
    /// Waits for the exit, at most `seconds`: a process still running then is killed (SIGKILL, so
    /// the wait that follows cannot hang) and the test fails.
    func waitUntilExitOrKill(seconds: Double = 120, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning && Date() < deadline { usleep(10_000) }
        if isRunning {
            kill(processIdentifier, SIGKILL)
            XCTFail("prn \(arguments ?? []) did not end within \(Int(seconds)) seconds", file: file, line: line)
        }
        waitUntilExit()
    }
}

extension Array where Element == String {
    /// Without the empty string a final newline leaves after splitting.
    func dropLastEmpty() -> [String] { last == "" ? Array(dropLast()) : self }
}

/// A temporary folder for one test, removed afterwards.
class FolderTestCase: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("prn-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Writes `text` to `name` in the folder and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func read(_ name: String) throws -> String {
        try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
    }

    func exists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path)
    }

    /// `prn arguments…` run in the folder.
    func prn(_ arguments: String..., stdin: String = "", environment: [String: String] = [:]) throws -> PrnBinary.Result {
        try PrnBinary.run(arguments, stdin: stdin, in: folder, environment: environment)
    }

    /// Waits until `name` exists in the folder (a script's sign that it got somewhere).
    func waitFor(_ name: String, seconds: Double = 60, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(seconds)
        while !exists(name) && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(exists(name), "\(name) never appeared", file: file, line: line)
    }
}
