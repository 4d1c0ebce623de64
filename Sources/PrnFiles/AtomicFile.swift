import Foundation

/// Writes whole files so that a crash never leaves a half-written one under the real name: the
/// bytes go to a temporary file beside the target, are synced to disk, then renamed over it.
/// Checkpoints, tables, notebooks and plots are all written this way.
///
/// ```swift
/// try AtomicFile.write(Data(csv.utf8), to: "runs/results.csv")
/// ```
public enum AtomicFile {
    /// Writes `data` to `path`, creating the folder first when `createFolder` is set. Temporary
    /// files that earlier interrupted writes to `path` left behind are removed first.
    public static func write(_ data: Data, to path: String, createFolder: Bool = false) throws {
        StaleTemporaries.remove(besides: path)
        let url = URL(fileURLWithPath: path)
        if createFolder {
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw FileWriteError(path, reason: String(cString: strerror(errno))) }
        var ok = data.withUnsafeBytes { raw -> Bool in
            var done = 0
            while done < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FileWriteError(path, reason: reason)
        }
    }

    /// Writes `text` as UTF-8.
    public static func write(_ text: String, to path: String, createFolder: Bool = false) throws {
        try write(Data(text.utf8), to: path, createFolder: createFolder)
    }
}

/// A file that could not be written; the message names the file and the system's reason.
public struct FileWriteError: Error, CustomStringConvertible {
    public let description: String

    init(_ path: String, reason: String) {
        description = "\(URL(fileURLWithPath: path).lastPathComponent): cannot write: \(reason)"
    }
}
