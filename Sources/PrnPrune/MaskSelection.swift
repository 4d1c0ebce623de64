import PrnKernel

/// Exact bottom-k selection over scores, in linear time: which entries a target removes.
///
/// The entries of one or more score tensors (one per layer for global scope, a single one for
/// layer scope) are ordered by `(score, index)` ascending, the index being the position in the
/// concatenation of the tensors in `prunablePaths` order, row-major inside each. The first `k` in
/// that order are removed: the `k` lowest scores, and among scores equal to the threshold the
/// lowest indices first. So exactly `k` entries go, whatever the ties (SynFlow's reference code
/// removes every score equal to the threshold and can overshoot).
///
/// Scores become 32-bit keys whose unsigned order is the float order (`-0` folded onto `+0`, so
/// the two zeros tie as they compare). The threshold key is found by a radix select: a histogram
/// of the high 16 bits locates the bucket holding the k-th key, a histogram of the low 16 bits
/// inside that bucket locates the key itself. That is two read passes, a tie-count pass and a
/// write pass — O(N), no sort, no data-dependent worst case, and integer counts, so the result is
/// identical for any thread count. On VGG-16's 15 million weights a selection takes a few tens of
/// milliseconds, which keeps 100 SynFlow rounds cheap.
enum MaskSelection {
    /// A key whose unsigned order is the order of `x` (NaN excluded by the caller).
    /// Branch-free (scores have random signs, and a mispredicted branch per entry would cost
    /// more than the rest of the pass): `x + 0` turns −0 into +0, a negative float's bits are all
    /// flipped, a positive one's sign bit is set.
    @inline(__always)
    static func key(_ x: Float) -> UInt32 {
        let bits = (x + 0).bitPattern
        let negative = UInt32(bitPattern: Int32(bitPattern: bits) >> 31)
        return bits ^ (negative | 0x8000_0000)
    }

    /// Keys of a layer's scores, with the number of unpruned entries and whether every score is
    /// finite. Already pruned entries (mask 0) get the key of −∞, so they are removed before
    /// anything else and never come back; `invert` ranks `−score`.
    static func keys(scores: Tensor, mask: Tensor?, invert: Bool) -> (keys: [UInt32], alive: Int, finite: Bool) {
        let n = scores.count
        let bottom = key(-.infinity)
        let chunks = Chunk.split([n])
        var alive = [Int](repeating: 0, count: chunks.count)
        var finite = [Bool](repeating: true, count: chunks.count)
        let keys = [UInt32](unsafeUninitializedCapacity: n) { buffer, initialized in
            let out = buffer.baseAddress!
            scores.scalars.withUnsafeBufferPointer { scores in
                let s = scores.baseAddress!
                alive.withUnsafeMutableBufferPointer { alive in
                    finite.withUnsafeMutableBufferPointer { finite in
                        let m = mask?.scalars
                        m.withOptionalBuffer { buffer in
                            let m = buffer?.baseAddress
                            Parallel.forEach(chunks.count) { some in for c in some {
                                let range = chunks[c].range
                                let sign: Float = invert ? -1 : 1
                                // The largest magnitude's bits: ≥ 0x7F800000 means an infinity or NaN.
                                var largest: UInt32 = 0
                                var count = range.count
                                if let m {
                                    count = 0
                                    for i in range {
                                        let score = s[i]
                                        largest = Swift.max(largest, score.bitPattern & 0x7FFF_FFFF)
                                        // All ones where the mask is non-zero: integer selects, no branch.
                                        let live: UInt32 = m[i].bitPattern & 0x7FFF_FFFF == 0 ? 0 : .max
                                        out[i] = (key(sign * score) & live) | (bottom & ~live)
                                        count &+= Int(live & 1)
                                    }
                                } else {
                                    for i in range {
                                        let score = s[i]
                                        largest = Swift.max(largest, score.bitPattern & 0x7FFF_FFFF)
                                        out[i] = key(sign * score)
                                    }
                                }
                                alive[c] = count
                                finite[c] = largest < 0x7F80_0000
                            } }
                        }
                    }
                }
            }
            initialized = n
        }
        return (keys, alive.reduce(0, +), !finite.contains(false))
    }

    /// 0/1 keep masks, one per key array (shaped by `shapes`), removing exactly `k` entries of
    /// the concatenation: the lowest keys, ties by lowest index.
    static func keepMasks(_ keys: [[UInt32]], shapes: [[Int]], remove k: Int) -> [Tensor] {
        let total = keys.reduce(0) { $0 + $1.count }
        precondition(k >= 0 && k <= total, "cannot remove \(k) of \(total)")
        if k == 0 { return shapes.map { Tensor.ones($0) } }
        if k == total { return shapes.map { Tensor.zeros($0) } }
        let chunks = Chunk.split(keys.map(\.count))
        let rank = k - 1   // 0-based rank of the last removed entry

        // High 16 bits.
        let high = histogram(keys, chunks, prefix: nil)
        let (highBucket, belowHigh) = locate(high, rank: rank)
        // Low 16 bits within that bucket.
        let prefix = UInt32(highBucket)
        let low = histogram(keys, chunks, prefix: prefix)
        let (lowBucket, belowLow) = locate(low, rank: rank - belowHigh)
        let threshold = prefix << 16 | UInt32(lowBucket)
        let below = belowHigh + belowLow
        let tiesToRemove = k - below   // ≥ 1: the entries equal to the threshold removed, by index

        // Ties before each chunk, in index order.
        var tiesBefore = [Int](repeating: 0, count: chunks.count)
        tiesBefore.withUnsafeMutableBufferPointer { counts in
            Parallel.forEach(chunks.count) { some in for c in some {
                let chunk = chunks[c]
                counts[c] = keys[chunk.segment].withUnsafeBufferPointer { buffer in
                    let x = buffer.baseAddress!
                    var n = 0
                    for i in chunk.range { n &+= x[i] == threshold ? 1 : 0 }
                    return n
                }
            } }
        }
        var running = 0
        for c in tiesBefore.indices {
            let n = tiesBefore[c]
            tiesBefore[c] = running
            running += n
        }

        return shapes.indices.map { segment in
            Tensor.build(shapes[segment]) { buffer in
                let out = buffer.baseAddress!
                keys[segment].withUnsafeBufferPointer { buffer in
                    let x = buffer.baseAddress!
                    let mine = chunks.indices.filter { chunks[$0].segment == segment }
                    Parallel.forEach(mine.count) { some in for j in some {
                        let chunk = chunks[mine[j]]
                        var ties = tiesBefore[mine[j]]
                        for i in chunk.range {
                            let key = x[i]
                            out[i] = key > threshold ? 1 : 0
                            if key == threshold {   // rare: predictable
                                out[i] = ties < tiesToRemove ? 0 : 1
                                ties += 1
                            }
                        }
                    } }
                }
            }
        }
    }

    /// The bucket holding the entry of 0-based `rank` in ascending order, and how many entries
    /// lie in lower buckets.
    private static func locate(_ histogram: [Int], rank: Int) -> (bucket: Int, below: Int) {
        var below = 0
        for (bucket, count) in histogram.enumerated() {
            if below + count > rank { return (bucket, below) }
            below += count
        }
        preconditionFailure("rank \(rank) beyond \(below) entries")
    }

    /// A 65,536-bin histogram over all keys: of their high 16 bits, or, given `prefix`, of the low
    /// 16 bits of the keys whose high bits equal it. Each worker counts its chunks into its own
    /// 32-bit bins (256 KB, cache-resident; a worker never sees 2^32 keys, `Pruner` checks the
    /// total); integer sums make the merge order irrelevant.
    private static func histogram(_ keys: [[UInt32]], _ chunks: [Chunk], prefix: UInt32?) -> [Int] {
        let bins = 1 << 16
        let workers = Swift.max(1, Swift.min(Parallel.threads, chunks.count))
        var partial = [UInt32](repeating: 0, count: workers * bins)
        partial.withUnsafeMutableBufferPointer { counts in
            let counts = counts   // each worker writes only its own bins
            Parallel.forEach(workers, threads: workers) { range in
                for w in range {
                    let own = counts.baseAddress! + w * bins
                    for c in stride(from: w, to: chunks.count, by: workers) {
                        count(keys[chunks[c].segment], chunks[c].range, prefix: prefix, into: own)
                    }
                }
            }
        }
        var result = [Int](repeating: 0, count: bins)
        for w in 0..<workers {
            for b in 0..<bins { result[b] += Int(partial[w * bins + b]) }
        }
        return result
    }

    /// Adds the keys of `range` to the bins at `bins` (see `histogram`).
    private static func count(_ keys: [UInt32], _ range: Range<Int>, prefix: UInt32?, into bins: UnsafeMutablePointer<UInt32>) {
        keys.withUnsafeBufferPointer { buffer in
            let x = buffer.baseAddress!
            if let prefix {
                for i in range {
                    let key = x[i]
                    if key >> 16 == prefix { bins[Int(key & 0xFFFF)] &+= 1 }
                }
            } else {
                for i in range { bins[Int(x[i] >> 16)] &+= 1 }
            }
        }
    }

    /// A fixed-size piece of one key array.
    private struct Chunk {
        let segment: Int
        let range: Range<Int>

        static let size = 1 << 17

        static func split(_ counts: [Int]) -> [Chunk] {
            var chunks: [Chunk] = []
            for (segment, n) in counts.enumerated() {
                var start = 0
                while start < n {
                    let end = Swift.min(n, start + size)
                    chunks.append(Chunk(segment: segment, range: start..<end))
                    start = end
                }
            }
            return chunks
        }
    }
}
