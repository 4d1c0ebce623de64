#if canImport(Glibc)
import Glibc
#endif
import Foundation

// Packing buffers kept from one product to the next.
//
// A product at n = 2048 packs 16 MB per round. Allocated fresh per call, glibc served it with a
// new mapping (its mmap threshold rises only as far as the sizes freed so far), so every call took
// a page fault per 4 KB it packed: 4096 per call at n = 2048, 2048 at n = 1024. OpenBLAS
// likewise keeps its buffers for the life of the process.

extension GEMM {
    /// Runs `body` with a 64-byte aligned buffer of at least `floats` floats, its contents
    /// unspecified. Buffers are reused across calls and threads (`PackingBuffers`).
    static func withPackingBuffer(floats: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        let buffer = PackingBuffers.shared.take(bytes: max(floats, 1) * 4)
        defer { PackingBuffers.shared.give(buffer) }
        body(buffer.start.bindMemory(to: Float.self, capacity: floats))
    }

    /// Runs `body` with room for `floats` floats of tile scratch (edge tiles, carried
    /// accumulators): on the stack when small, as the narrow tiling's always is, so that a small
    /// product does not take a lock for it.
    @inline(__always)
    static func withTileScratch(floats: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        guard floats <= 4 * largestTile else { return withPackingBuffer(floats: floats, body) }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * largestTile) { body($0.baseAddress!) }
    }

    /// Free packing buffers, taken by best fit. Nested and concurrent products each take their
    /// own (a worker packing privately, the convolution's weight gradient inside its block
    /// sums), so a few are kept: at most `kept`, the smallest dropped first.
    final class PackingBuffers: @unchecked Sendable {
        static let shared = PackingBuffers()
        /// Buffers kept while free: enough for two threads' nested products.
        static let kept = 4
        /// Buffers from this size up are rounded to and aligned on it, and advised for
        /// transparent huge pages (`madvise(MADV_HUGEPAGE)`: Linux distributions often enable
        /// them on request only): one fault and one TLB entry per 2 MB of packed slivers
        /// instead of 512.
        static let hugePage = 1 << 21

        struct Buffer {
            let start: UnsafeMutableRawPointer, bytes: Int
        }

        private let lock = NSLock()
        private var free: [Buffer] = []

        deinit {
            for buffer in free { buffer.start.deallocate() }
        }

        /// The smallest free buffer of at least `bytes`, else a new one.
        func take(bytes: Int) -> Buffer {
            lock.lock()
            var fit: Int? = nil
            for i in free.indices where free[i].bytes >= bytes && fit.map({ free[i].bytes < free[$0].bytes }) ?? true {
                fit = i
            }
            let found = fit.map { free.remove(at: $0) }
            lock.unlock()
            return found ?? Self.allocate(bytes: bytes)
        }

        /// Returns a buffer taken with `take`.
        func give(_ buffer: Buffer) {
            lock.lock()
            free.append(buffer)
            var dropped: Buffer? = nil
            if free.count > Self.kept, let smallest = free.indices.min(by: { free[$0].bytes < free[$1].bytes }) {
                dropped = free.remove(at: smallest)
            }
            lock.unlock()
            dropped?.start.deallocate()
        }

        private static func allocate(bytes: Int) -> Buffer {
            guard bytes >= hugePage else {
                return Buffer(start: .allocate(byteCount: bytes, alignment: 64), bytes: bytes)
            }
            let rounded = (bytes + hugePage - 1) / hugePage * hugePage
            let start = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: hugePage)
            #if canImport(Glibc)
            _ = madvise(start, rounded, MADV_HUGEPAGE)
            #endif
            return Buffer(start: start, bytes: rounded)
        }
    }
}
