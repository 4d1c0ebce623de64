import Foundation

/// Facts about the machine and the source tree, for a notebook's header: what produced it.
public enum Provenance {
    /// `prn 0.1.0 (commit abc1234)`: the version, and the commit of the git checkout holding
    /// `directory` when there is one (with "+ changes" when tracked files differ from it).
    public static func version(directory: String) -> String {
        guard let commit = gitCommit(in: directory) else { return PrnVersion.current }
        return "\(PrnVersion.current) (commit \(commit))"
    }

    /// `git rev-parse --short HEAD` run in `directory`, or nil when that is not a checkout or git
    /// is missing.
    public static func gitCommit(in directory: String) -> String? {
        guard let hash = run(["git", "-C", directory, "rev-parse", "--short", "HEAD"]), !hash.isEmpty else { return nil }
        let changes = run(["git", "-C", directory, "status", "--porcelain", "--untracked-files=no"]) ?? ""
        return changes.isEmpty ? hash : hash + " + changes"
    }

    /// The CPU's model name from /proc/cpuinfo, with the number of logical CPUs.
    public static var cpu: String {
        let count = ProcessInfo.processInfo.activeProcessorCount
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":") else {
            return "\(count) CPUs"
        }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) + " × \(count)"
    }

    /// The current time, ISO 8601 in UTC.
    public static var date: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }

    /// Runs a program, returning its trimmed standard output, or nil when it fails.
    private static func run(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
