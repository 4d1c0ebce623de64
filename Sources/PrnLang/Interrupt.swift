import Synchronization

/// The stop flag. The front end's signal handlers call `request(signal:)` (Ctrl-C, and in run
/// mode SIGTERM and SIGHUP too); long-running commands poll `requested` (training checks it once
/// per batch) and stop cleanly. The interpreter checks it between statements.
public enum Interrupt {
    /// The signal that asked to stop, 0 when none did.
    @available(macOS 15.0, *)
    private static let flag = Atomic<Int32>(0)

    /// Whether a stop was requested since the last `clear()`.
    public static var requested: Bool { signal != 0 }

    /// The number of the signal that requested the stop (SIGINT for Ctrl-C), 0 when none did.
    public static var signal: Int32 {
        if #available(macOS 15.0, *) { return flag.load(ordering: .relaxed) }
        return 0
    }

    /// Sets the flag; async-signal-safe (a lock-free atomic store). The first signal is kept.
    public static func request(signal: Int32 = 2) {
        if #available(macOS 15.0, *) { _ = flag.compareExchange(expected: 0, desired: signal, ordering: .relaxed) }
    }

    public static func clear() {
        if #available(macOS 15.0, *) { flag.store(0, ordering: .relaxed) }
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
