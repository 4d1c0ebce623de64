import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to its end or to a deadline, whichever comes first: for tests that drive real
/// outside programs (Slurm, Jupyter clients) which may start daemons of their own.
///
/// Foundation's `Process` learns of a child's exit when a socket the child inherited closes, and a
/// daemon the child starts inherits that socket too: `waitUntilExit` then waits as long as the
/// daemon lives. Here the child is spawned with `posix_spawn` in a process group of its own, its
/// output goes to a file, and its exit is polled with `waitpid`, so nothing the child leaves
/// running can hold the test, and a child that overruns is killed with its whole group.
public enum BoundedRun {
    public struct Outcome {
        /// The exit status, or 128 + n when signal n ended it.
        public var status: Int32
        /// Standard output and standard error, interleaved as written.
        public var output: String
        /// Whether the deadline passed and the process group was killed.
        public var timedOut: Bool
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `arguments[0]` (looked up in PATH) with the rest as its arguments, standard input
    /// from /dev/null.
    public static func run(_ arguments: [String], seconds: Double) throws -> Outcome {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("prn-bounded-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, argv[0]!, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            throw Failure(description: "cannot start \(arguments[0]): \(String(cString: strerror(spawned)))")
        }

        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        var timedOut = false
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() >= deadline {
                timedOut = true
                kill(-pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(50_000)
        }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let signal = status & 0x7f
        return Outcome(status: signal == 0 ? (status >> 8) & 0xff : 128 + signal, output: output, timedOut: timedOut)
    }
}
