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
/// of the high 16 bits, counted while the keys are made, locates the bucket holding the k-th key;
/// a histogram of the low 16 bits inside that bucket locates the key itself. Then one pass
/// writes the masks, keeping the keys equal to the threshold and counting them per chunk, and
/// the few chunks holding the first ties to remove clear theirs. That is one pass to make the
/// keys, one read pass and one write pass — O(N), no sort, no data-dependent worst case, and
/// integer counts, so the result is identical for any thread count. On VGG-16's 15 million
/// weights a selection takes a few tens of milliseconds, which keeps 100 SynFlow rounds cheap.
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

    /// A layer's keys, with what the selection learns in the pass that makes them.
    struct RankedLayer {
        /// One key per score, in the tensor's row-major order.
        let keys: [UInt32]
        /// Entries not already pruned.
        let alive: Int
        /// Whether every score is finite.
        let finite: Bool
        /// Counts of the keys' high 16 bits (65,536 bins).
        let high: [Int]
    }

    /// Keys of a layer's scores, with the number of unpruned entries, whether every score is
    /// finite, and the histogram of the keys' high halves. Already pruned entries (mask 0) get
    /// the key of −∞, so they are removed before anything else and never come back; `invert`
    /// ranks `−score`.
    static func keys(scores: Tensor, mask: Tensor?, invert: Bool) -> RankedLayer {
        let n = scores.count
        let bottom = key(-.infinity)
        let chunks = Chunk.split([n])
        var alive = [Int](repeating: 0, count: chunks.count)
        var finite = [Bool](repeating: true, count: chunks.count)
        var high = [Int](repeating: 0, count: Histogram.bins)
        let keys = [UInt32](unsafeUninitializedCapacity: n) { buffer, initialized in
            let out = buffer.baseAddress!
            scores.scalars.withUnsafeBufferPointer { scores in
                let s = scores.baseAddress!
                alive.withUnsafeMutableBufferPointer { alive in
                    finite.withUnsafeMutableBufferPointer { finite in
                        let m = mask?.scalars
                        m.withOptionalBuffer { buffer in
                            let m = buffer?.baseAddress
                            high = Histogram.count(chunks) { c, bins in
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
                                        let k = (key(sign * score) & live) | (bottom & ~live)
                                        out[i] = k
                                        count &+= Int(live & 1)
                                        // Pruned entries, most of them in late rounds, would all hit
                                        // one bin, each increment waiting for the last; they rotate
                                        // over spare bins instead.
                                        let bin = (k >> 16) & live | (Histogram.spare + UInt32(i & Histogram.spareMask)) & ~live
                                        bins[Int(bin)] &+= 1
                                    }
                                } else {
                                    for i in range {
                                        let score = s[i]
                                        largest = Swift.max(largest, score.bitPattern & 0x7FFF_FFFF)
                                        let k = key(sign * score)
                                        out[i] = k
                                        bins[Int(k >> 16)] &+= 1
                                    }
                                }
                                alive[c] = count
                                finite[c] = largest < 0x7F80_0000
                            }
                        }
                    }
                }
            }
            initialized = n
        }
        let aliveCount = alive.reduce(0, +)
        high[Int(bottom >> 16)] += n - aliveCount   // the pruned entries, from the spare bins
        return RankedLayer(keys: keys, alive: aliveCount, finite: !finite.contains(false), high: high)
    }

    /// 0/1 keep masks, one per layer (shaped by `shapes`), removing exactly `k` entries of the
    /// concatenation of their keys: the lowest keys, ties by lowest index.
    static func keepMasks(_ layers: [RankedLayer], shapes: [[Int]], remove k: Int) -> [Tensor] {
        let keys = layers.map(\.keys)
        let total = keys.reduce(0) { $0 + $1.count }
        precondition(k >= 0 && k <= total, "cannot remove \(k) of \(total)")
        if k == 0 { return shapes.map { Tensor.ones($0) } }
        if k == total { return shapes.map { Tensor.zeros($0) } }
        let chunks = Chunk.split(keys.map(\.count))
        let rank = k - 1   // 0-based rank of the last removed entry

        // High 16 bits: counted while the keys were made.
        var high = [Int](repeating: 0, count: Histogram.bins)
        for layer in layers { for b in high.indices { high[b] += layer.high[b] } }
        let (highBucket, belowHigh) = locate(high, rank: rank)
        // Low 16 bits within that bucket.
        let prefix = UInt32(highBucket)
        let low = Histogram.count(chunks) { c, bins in
            keys[chunks[c].segment].withUnsafeBufferPointer { buffer in
                let x = buffer.baseAddress!
                for i in chunks[c].range {
                    let key = x[i]
                    if key >> 16 == prefix { bins[Int(key & 0xFFFF)] &+= 1 }
                }
            }
        }
        let (lowBucket, belowLow) = locate(low, rank: rank - belowHigh)
        let threshold = prefix << 16 | UInt32(lowBucket)
        let tiesToRemove = k - belowHigh - belowLow   // ≥ 1: the entries equal to the threshold removed, by index

        // Every key at the threshold is kept at first and counted per chunk; then the chunks
        // holding the first `tiesToRemove` of them, in index order, remove theirs (usually one
        // chunk). Segments go in order, so `tiesBefore` counts the ties of earlier segments.
        var tiesBefore = 0
        return shapes.indices.map { segment in
            Tensor.build(shapes[segment]) { buffer in
                let out = buffer.baseAddress!
                keys[segment].withUnsafeBufferPointer { buffer in
                    let x = buffer.baseAddress!
                    let mine = chunks.filter { $0.segment == segment }
                    var ties = [Int](repeating: 0, count: mine.count)
                    ties.withUnsafeMutableBufferPointer { ties in
                        Parallel.forEach(mine.count) { some in for j in some {
                            var n = 0
                            for i in mine[j].range {
                                let key = x[i]
                                out[i] = key >= threshold ? 1 : 0
                                n &+= key == threshold ? 1 : 0
                            }
                            ties[j] = n
                        } }
                    }
                    var removals: [(range: Range<Int>, count: Int)] = []
                    for (j, n) in ties.enumerated() {
                        if n > 0 && tiesBefore < tiesToRemove {
                            removals.append((mine[j].range, Swift.min(n, tiesToRemove - tiesBefore)))
                        }
                        tiesBefore += n
                    }
                    Parallel.forEach(removals.count) { some in for r in some {
                        var left = removals[r].count
                        for i in removals[r].range where left > 0 && x[i] == threshold {
                            out[i] = 0
                            left -= 1
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

    /// Per-worker 32-bit histograms, merged. Each worker counts its chunks into its own bins
    /// (256 KB, cache-resident; a worker never sees 2^32 keys, `Pruner` checks the total);
    /// integer sums make the merge order irrelevant, so the counts are the same on any number of
    /// threads.
    private enum Histogram {
        static let bins = 1 << 16
        /// Extra bins past the real ones that `keys` spreads pruned entries over.
        static let spare = UInt32(bins), spareMask = 15

        /// Runs `body(chunk, bins)` for every chunk, then sums the workers' bins (spare bins folded
        /// away: the caller accounts for what it put there).
        static func count(_ chunks: [Chunk], _ body: (Int, UnsafeMutablePointer<UInt32>) -> Void) -> [Int] {
            let width = bins + spareMask + 1
            let workers = Swift.max(1, Swift.min(Parallel.threads, chunks.count))
            var partial = [UInt32](repeating: 0, count: workers * width)
            partial.withUnsafeMutableBufferPointer { counts in
                let counts = counts   // each worker writes only its own bins
                Parallel.forEach(workers, threads: workers) { range in
                    for w in range {
                        for c in stride(from: w, to: chunks.count, by: workers) { body(c, counts.baseAddress! + w * width) }
                    }
                }
            }
            var result = [Int](repeating: 0, count: bins)
            for w in 0..<workers {
                for b in 0..<bins { result[b] += Int(partial[w * width + b]) }
            }
            return result
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
