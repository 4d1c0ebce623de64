import Foundation

/// Loaded data sets, kept for the life of the process so a second `data fashion` costs nothing.
///
/// Keyed by resolved source and validation size. Entries hold tensors, and a `Dataset` handed
/// out shares them (copy-on-write), so the cache costs one copy of each data set in memory.
/// Two threads loading the same key at once may both read it; the first result stored wins.
public final class DatasetCache: @unchecked Sendable {
    private struct Key: Hashable {
        let source: DataSource
        let validation: Int
    }

    private let lock = NSLock()
    private var entries: [Key: Dataset] = [:]

    /// An empty cache (tests use their own; everything else uses `shared`).
    public init() {}

    /// The process-wide cache that `Dataset.load` uses by default.
    public static let shared = DatasetCache()

    /// The cached data set for `source` and `validation`, or the result of `load` (then cached).
    public func dataset(_ source: DataSource, validation: Int, load: () throws -> Dataset) throws -> Dataset {
        let key = Key(source: source, validation: validation)
        if let hit = lock.withLock({ entries[key] }) { return hit }
        let loaded = try load()
        return lock.withLock {
            if let raced = entries[key] { return raced }
            entries[key] = loaded
            return loaded
        }
    }

    /// Whether `source` (resolved) with `validation` is cached.
    public func contains(_ source: DataSource, validation: Int = 0) -> Bool {
        lock.withLock { entries[Key(source: source, validation: validation)] != nil }
    }

    /// The number of cached entries.
    public var count: Int { lock.withLock { entries.count } }

    /// Forgets every data set (memory is freed once no value refers to it).
    public func removeAll() {
        lock.withLock { entries.removeAll() }
    }
}
