import Foundation
import PrnFiles
import PrnNotebook

/// The kernelspec Jupyter finds prn by: a folder `kernels/prn` holding `kernel.json`.
///
/// ```swift
/// let folder = try KernelSpec(executable: "/usr/local/bin/prn").install(in: KernelSpec.userDirectory)
/// // folder/kernel.json: {"argv": ["/usr/local/bin/prn", "kernel", "-f", "{connection_file}"], …}
/// ```
public struct KernelSpec {
    /// The absolute path of the prn executable the kernel runs.
    public var executable: String

    public init(executable: String) { self.executable = executable }

    public var json: JSON {
        .object([
            ("argv", .array([executable, "kernel", "-f", "{connection_file}"].map(JSON.string))),
            ("display_name", .string("prn")),
            ("language", .string("prn")),
            ("interrupt_mode", .string("signal")),
            ("metadata", .object([("debugger", .bool(false))])),
        ])
    }

    /// Writes `kernels/prn/kernel.json` under `dataDirectory` (a Jupyter data folder such as
    /// `~/.local/share/jupyter`); returns the kernelspec folder.
    @discardableResult
    public func install(in dataDirectory: String) throws -> String {
        let folder = URL(fileURLWithPath: dataDirectory).appendingPathComponent("kernels/prn")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try AtomicFile.write(json.indented + "\n", to: folder.appendingPathComponent("kernel.json").path)
        return folder.path
    }

    /// The user's Jupyter data folder: `$JUPYTER_DATA_DIR`, else `~/Library/Jupyter` on macOS and
    /// `$XDG_DATA_HOME/jupyter` (`~/.local/share/jupyter`) elsewhere, as `jupyter --paths` says.
    public static var userDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let dir = environment["JUPYTER_DATA_DIR"], !dir.isEmpty { return dir }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        #if os(macOS)
        return home + "/Library/Jupyter"
        #else
        let dataHome = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.local/share"
        return dataHome + "/jupyter"
        #endif
    }

    /// The data folder for an installation prefix: `PREFIX/share/jupyter` (`/usr/local` when
    /// system-wide, as `jupyter kernelspec install` does).
    public static func directory(prefix: String) -> String {
        URL(fileURLWithPath: prefix).appendingPathComponent("share/jupyter").path
    }
}
