import Synchronization

/// The Ctrl-C flag. The front end's SIGINT handler calls `request()`; long-running commands
/// poll `requested` (training checks it once per batch) and stop cleanly. The interpreter checks
/// it between statements.
public enum Interrupt {
    @available(macOS 15.0, *)
    private static let flag = Atomic<Bool>(false)

    /// Whether Ctrl-C was pressed since the last `clear()`.
    public static var requested: Bool {
        if #available(macOS 15.0, *) { return flag.load(ordering: .relaxed) }
        return false
    }

    /// Sets the flag; async-signal-safe (a lock-free atomic store).
    public static func request() {
        if #available(macOS 15.0, *) { flag.store(true, ordering: .relaxed) }
    }

    public static func clear() {
        if #available(macOS 15.0, *) { flag.store(false, ordering: .relaxed) }
    }

    /// Throws `Interrupted` when the flag is set: a one-line poll for loops.
    public static func check() throws {
        if requested { throw Interrupted() }
    }
}

/// Thrown by `Interrupt.check()`.
public struct Interrupted: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "interrupted" }
}
