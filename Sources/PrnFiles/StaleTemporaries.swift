import Foundation

/// Temporary files that interrupted atomic saves left behind.
///
/// An atomic save writes `.NAME.tmp-PID` beside `NAME`, then renames it over `NAME`; a process
/// killed between the two leaves the temporary file forever. The next save to the same path
/// removes those whose process is gone (`kill(pid, 0)` fails with ESRCH), and keeps those of a
/// process still running, which may be saving right now.
public enum StaleTemporaries {
    /// Removes the temporary files of dead processes beside `path`; returns their names.
    @discardableResult
    public static func remove(besides path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let prefix = ".\(url.lastPathComponent).tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) == -1 && errno == ESRCH, unlink((folder as NSString).appendingPathComponent(name)) == 0 {
                removed.append(name)
            }
        }
        return removed
    }
}
