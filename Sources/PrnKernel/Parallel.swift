import Dispatch
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
    @inlinable
    public static func forEach(_ count: Int, grain: Int = 1, threads: Int? = nil, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let workers = min(threads ?? Parallel.threads, max(1, count / max(grain, 1)))
        if workers <= 1 {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = count * w / workers, hi = count * (w + 1) / workers
            if lo < hi { body(lo..<hi) }
        }
    }
}
