import Foundation
import XCTest

/// `prn` on a pseudo-terminal, as a user at a keyboard sees it: keys go in through the master
/// side, and what the program writes to the terminal collects in `transcript`.
///
/// The child gets the terminal as its controlling terminal (`forkpty`), so Ctrl-C typed as
/// `"\u{3}"` reaches it as SIGINT exactly as from a keyboard.
final class Terminal {
    private let master: Int32
    let pid: pid_t
    private(set) var transcript = ""
    private var reaped = false
    /// Where the last `expect` matched: the next one searches after it.
    private var consumed: String.Index

    init(_ arguments: [String] = [], directory: URL, environment: [String: String]) throws {
        guard FileManager.default.isExecutableFile(atPath: PrnBinary.url.path) else {
            throw PrnBinary.Missing(description: "no prn executable at \(PrnBinary.url.path)")
        }
        // Everything the child needs is made before fork: only exec-safe calls happen after it.
        let argv = ([PrnBinary.url.path] + arguments).map { strdup($0) } + [nil]
        var variables = ProcessInfo.processInfo.environment
        variables["TERM"] = "dumb"
        variables["PRN_THREADS"] = "1"
        for (key, value) in environment { variables[key] = value }
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        let folder = strdup(directory.path)
        defer {
            for pointer in argv + envp { free(pointer) }
            free(folder)
        }
        var size = winsize(ws_row: 40, ws_col: 200, ws_xpixel: 0, ws_ypixel: 0)
        var descriptor: Int32 = -1
        let child = forkpty(&descriptor, nil, nil, &size)
        if child == 0 {
            _ = chdir(folder!)
            execve(argv[0]!, argv, envp)
            _exit(127)
        }
        guard child > 0 else { throw PrnBinary.Missing(description: "forkpty failed: \(String(cString: strerror(errno)))") }
        master = descriptor
        pid = child
        consumed = transcript.startIndex
    }

    deinit {
        if !reaped {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        close(master)
    }

    /// Types `text` (use "\r" for Return, "\t" for Tab, "\u{3}" for Ctrl-C, "\u{4}" for Ctrl-D).
    ///
    /// By default it first waits until the line editor has the terminal (canonical mode off): a
    /// key typed before that is seen by the kernel's line discipline instead, where Ctrl-D ends a
    /// read and Tab is just a character. `atPrompt: false` types into a running command.
    func type(_ text: String, atPrompt: Bool = true, file: StaticString = #filePath, line: UInt = #line) {
        if atPrompt {
            let deadline = Date().addingTimeInterval(30)
            var settings = termios()
            while tcgetattr(master, &settings) == 0, settings.c_lflag & tcflag_t(ICANON) != 0, Date() < deadline {
                _ = readSome(until: Date().addingTimeInterval(0.01))
            }
            if settings.c_lflag & tcflag_t(ICANON) != 0 { XCTFail("the line editor never took the terminal", file: file, line: line) }
        }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            written += n
        }
    }

    /// Reads until `text` appears after the previous match; fails the test after `seconds`.
    @discardableResult
    func expect(_ text: String, seconds: Double = 60, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let found = transcript.range(of: text, range: consumed..<transcript.endIndex) {
                consumed = found.upperBound
                return true
            }
            guard Date() < deadline, readSome(until: deadline) else { break }
        }
        XCTFail("the terminal never showed \(text.debugDescription); it shows:\n\(transcript[consumed...])", file: file, line: line)
        return false
    }

    /// Everything shown since the previous match, without waiting.
    var unmatched: Substring { transcript[consumed...] }

    /// Reads what is available within the deadline; false at end of output.
    private func readSome(until deadline: Date) -> Bool {
        var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(max(1, min(200, deadline.timeIntervalSinceNow * 1000)))
        guard poll(&poller, 1, milliseconds) > 0 else { return true }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = read(master, &buffer, buffer.count)
        guard n > 0 else { return false }
        let index = transcript.distance(from: transcript.startIndex, to: consumed)
        transcript += String(decoding: buffer[..<n], as: UTF8.self)
        consumed = transcript.index(transcript.startIndex, offsetBy: index)
        return true
    }

    /// Waits for the program to end (reading its last output) and returns its exit status.
    func waitForExit(seconds: Double = 60, file: StaticString = #filePath, line: UInt = #line) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while Date() < deadline {
            _ = readSome(until: Date().addingTimeInterval(0.05))
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped = true
                while hasPendingOutput && readSome(until: Date().addingTimeInterval(0.05)) {}
                return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            }
        }
        XCTFail("prn did not exit; the terminal shows:\n\(transcript[consumed...])", file: file, line: line)
        return nil
    }

    private var hasPendingOutput: Bool {
        var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) > 0 && (poller.revents & Int16(POLLIN)) != 0
    }
}
