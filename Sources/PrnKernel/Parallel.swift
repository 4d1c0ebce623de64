import Foundation

/// Data parallelism over the machine's cores.
///
/// `forEach` splits `0..<count` into at most `threads` contiguous chunks of at least `grain`
/// items. Work split this way must not depend on the chunking for its result; reductions
/// combine per-chunk partials in chunk order (see `sumChunks`) so results are bit-identical for
/// any thread count only when the chunking itself is fixed, which callers ensure by reducing
/// sequentially or by fixed-size blocks.
public enum Parallel {
    /// Worker count: `PRN_THREADS`, else the number of active processors. `set threads N` changes it.
    public nonisolated(unsafe) static var threads: Int = {
        if let text = ProcessInfo.processInfo.environment["PRN_THREADS"], let n = Int(text), n > 0 {
            return min(n, 256)
        }
        return max(ProcessInfo.processInfo.activeProcessorCount, 1)
    }()

    /// Runs `body` over contiguous sub-ranges of `0..<count` on up to `threads` workers.
    ///
    /// The chunks depend only on `count`, `grain` and `threads`; they run on the persistent
    /// `WorkerPool` (a nested call, made from inside a chunk, runs its chunks in order on its own
    /// thread, with the same boundaries). `file` and `line` name the call site for `PoolStats`.
    public static func forEach(_ count: Int, grain: Int = 1, threads: Int? = nil,
                               file: StaticString = #fileID, line: UInt = #line, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let workers = min(threads ?? Parallel.threads, max(1, count / max(grain, 1)))
        if workers <= 1 {
            body(0..<count)
            return
        }
        WorkerPool.shared.run(chunks: workers, threads: workers, file: file, line: line) { w in
            body(count * w / workers ..< count * (w + 1) / workers)
        }
    }
}

extension Parallel {
    /// Pieces per thread `forEachClaimed` cuts a range into by default: enough that a thread held
    /// up near the end (by a slower piece, or by the host) leaves the other a short wait.
    public static let piecesPerThread = 8

    /// Runs `body` over contiguous pieces of `0..<count` on up to `threads` workers, each thread
    /// claiming the next unclaimed piece when it finishes one (`WorkerPool`'s atomic counter),
    /// where `forEach` hands each thread one fixed chunk and a thread that falls behind leaves
    /// the others idle at the end.
    ///
    /// `pieces` (default `piecesPerThread` per thread, at most `count`) fixes the cut, but which
    /// thread runs a piece, and in which order the pieces run, depends on timing: use it where
    /// each piece's result is its own (no sum across pieces). On one thread `body` gets the whole
    /// range at once.
    public static func forEachClaimed(_ count: Int, pieces: Int? = nil, threads: Int? = nil,
                                      file: StaticString = #fileID, line: UInt = #line, _ body: (Range<Int>) -> Void) {
        forEachClaimed(count, pieces: pieces, threads: threads, file: file, line: line) { range, _ in body(range) }
    }

    /// `forEachClaimed`, telling each piece its thread's slot: a number below
    /// `min(threads, count)` that no other thread uses during the call, so the pieces a thread
    /// runs can share scratch of its own (`slot · size` floats into one allocation).
    public static func forEachClaimed(_ count: Int, pieces: Int? = nil, threads: Int? = nil,
                                      file: StaticString = #fileID, line: UInt = #line,
                                      _ body: (_ range: Range<Int>, _ slot: Int) -> Void) {
        guard count > 0 else { return }
        let workers = min(threads ?? Parallel.threads, count)
        let cut = min(count, max(1, pieces ?? workers * piecesPerThread))
        if workers <= 1 || cut <= 1 {
            body(0..<count, 0)
            return
        }
        WorkerPool.shared.run(chunks: cut, threads: workers, file: file, line: line) { piece, slot in
            body(count * piece / cut ..< count * (piece + 1) / cut, slot)
        }
    }
}

extension Parallel {
    /// `(0..<count).map(body)` on up to `threads` workers, results in index order.
    ///
    /// For a few coarse, uneven items (a data set's files, a model's layers): the workers take the
    /// next index as they finish, so a big item does not hold back the ones after it. Each
    /// iteration writes only its own slot. When several iterations fail, the error of the lowest
    /// index is thrown, so the message does not depend on scheduling.
    public static func map<T, E: Error>(_ count: Int, threads: Int? = nil, _ body: (Int) throws(E) -> T) throws(E) -> [T] {
        var results = [Result<T, E>?](repeating: nil, count: count)
        let workers = Swift.max(1, Swift.min(threads ?? Parallel.threads, count))
        let next = NextIndex()
        results.withUnsafeMutableBufferPointer { buffer in
            let slots = buffer
            forEach(workers, threads: workers) { range in
                for _ in range {
                    while let i = next.take(below: count) {
                        slots[i] = Result { () throws(E) -> T in try body(i) }
                    }
                }
            }
        }
        return try results.map { result throws(E) -> T in try result!.get() }
    }

    /// A shared counter handing out indices, one at a time, to the workers of `map`.
    private final class NextIndex: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0

        func take(below count: Int) -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard value < count else { return nil }
            value += 1
            return value - 1
        }
    }
}
