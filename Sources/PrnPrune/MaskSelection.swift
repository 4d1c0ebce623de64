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
/// the two zeros tie as they compare). The threshold key — the k-th lowest — is found in one
/// read pass (`thresholdKey`: a fixed sample of the keys brackets it, the pass counts the keys
/// below the bracket and collects the few inside, a radix select finds it among them). Then one
/// pass writes the masks, keeping the keys equal to the threshold and counting them per chunk,
/// and the few chunks holding the first ties to remove clear theirs. O(N), no sort of the keys,
/// and integer counts, so the result is identical for any thread count. On VGG-16's 15 million
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
    }

    /// Keys of a layer's scores, with the number of unpruned entries and whether every score is
    /// finite. Already pruned entries (mask 0) get the key of −∞, so they are removed before
    /// anything else and never come back; `invert` ranks `−score`.
    static func keys(scores: Tensor, mask: Tensor?, invert: Bool) -> RankedLayer {
        scores.scalars.withUnsafeBufferPointer { scores in
            keys(count: scores.count, mask: mask, invert: invert, score: Stored(scores: scores.baseAddress!))
        }
    }

    /// The keys of the scores `|a ⊙ b|` (SynFlow's `|∂R/∂w ⊙ w|`), without writing the scores:
    /// the same keys as `keys(scores:)` of the masked product `m ⊙ |a ⊙ b|`, and finite exactly
    /// when that product is (a pruned entry's `|a_i·b_i|` is checked too: 0 · ∞ is NaN there).
    static func keys(magnitudeOfProduct a: Tensor, _ b: Tensor, mask: Tensor?, invert: Bool) -> RankedLayer {
        precondition(a.shape == b.shape, "factors \(a.shape) and \(b.shape) differ")
        return a.scalars.withUnsafeBufferPointer { a in
            b.scalars.withUnsafeBufferPointer { b in
                keys(count: a.count, mask: mask, invert: invert, score: MagnitudeOfProduct(a: a.baseAddress!, b: b.baseAddress!))
            }
        }
    }

    /// Where the i-th score comes from. A generic parameter rather than a closure, so that the
    /// key loop is specialized for each and stays one vectorized pass.
    private protocol ScoreSource {
        func score(_ i: Int) -> Float
    }

    private struct Stored: ScoreSource {
        let scores: UnsafePointer<Float>
        @inline(__always) func score(_ i: Int) -> Float { scores[i] }
    }

    private struct MagnitudeOfProduct: ScoreSource {
        let a: UnsafePointer<Float>, b: UnsafePointer<Float>
        @inline(__always) func score(_ i: Int) -> Float { Swift.abs(a[i] * b[i]) }
    }

    /// `keys` of `source.score(i)` for i in 0..<n, one parallel pass.
    private static func keys<Source: ScoreSource>(count n: Int, mask: Tensor?, invert: Bool, score source: Source) -> RankedLayer {
        let bottom = key(-.infinity)
        let chunks = Chunk.split([n])
        var alive = [Int](repeating: 0, count: chunks.count)
        var finite = [Bool](repeating: true, count: chunks.count)
        let keys = [UInt32](unsafeUninitializedCapacity: n) { buffer, initialized in
            let out = buffer.baseAddress!
            alive.withUnsafeMutableBufferPointer { alive in
                finite.withUnsafeMutableBufferPointer { finite in
                    (mask?.scalars).withOptionalBuffer { buffer in
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
                                    let score = source.score(i)
                                    largest = Swift.max(largest, score.bitPattern & 0x7FFF_FFFF)
                                    // All ones where the mask is non-zero: integer selects, no branch.
                                    let live: UInt32 = m[i].bitPattern & 0x7FFF_FFFF == 0 ? 0 : .max
                                    out[i] = (key(sign * score) & live) | (bottom & ~live)
                                    count &+= Int(live & 1)
                                }
                            } else {
                                for i in range {
                                    let score = source.score(i)
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
            initialized = n
        }
        return RankedLayer(keys: keys, alive: alive.reduce(0, +), finite: !finite.contains(false))
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

        let (threshold, below) = thresholdKey(keys, chunks, rank: rank)
        let tiesToRemove = k - below   // ≥ 1: the entries equal to the threshold removed, by index

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
                            let range = mine[j].range
                            ties[j] = writeKeep(x + range.lowerBound, out + range.lowerBound, range.count, threshold: threshold)
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

    /// Writes 1 for each of the `n` keys at `x` that is at least `threshold` and 0 for the
    /// others, and returns how many equal it. In explicit vectors: as a scalar loop it compiled
    /// to a compare and a branch per key.
    static func writeKeep(_ x: UnsafePointer<UInt32>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
                          threshold: UInt32) -> Int {
        let limit = SIMD16<UInt32>(repeating: threshold), one = SIMD16<UInt32>(repeating: 1)
        let kept = SIMD16<Float>(repeating: 1), dropped = SIMD16<Float>()
        var ties = SIMD16<UInt32>()
        var i = 0
        while i &+ 16 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<UInt32>.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: dropped.replacing(with: kept, where: v .>= limit),
                                                        as: SIMD16<Float>.self)
            ties &+= one.replacing(with: 0, where: v .!= limit)
            i &+= 16
        }
        var count = Int(ties.wrappedSum())
        while i < n {
            out[i] = x[i] >= threshold ? 1 : 0
            count &+= x[i] == threshold ? 1 : 0
            i &+= 1
        }
        return count
    }

    /// The key of 0-based `rank` in ascending order, and how many keys are lower.
    ///
    /// A sample of the keys at fixed positions brackets the rank's key strictly between two
    /// sample keys with a wide margin; one pass counts the keys at or below the bracket and
    /// collects those inside it (a few percent), and `radixSelect` finds the key among them. If
    /// the bracket misses (the rank near either end, or inside a block of equal keys at the
    /// bracket's edge), or when `sampled` is false, `radixSelect` runs over all keys. Either way
    /// the answer is exact; the sample decides only the time. (Counting all keys into a
    /// 65,536-bin histogram costs about 5 cycles a key, each increment waiting for the last of
    /// its bin; the bracket pass only compares. On SynFlow's rounds over VGG-16 the bracket
    /// holds about 3 % of the keys and has not missed.)
    static func thresholdKey(_ keys: [[UInt32]], _ chunks: [Chunk], rank: Int, sampled: Bool = true) -> (key: UInt32, below: Int) {
        let total = keys.reduce(0) { $0 + $1.count }
        guard sampled, total >= 8 * sampleSize else { return radixSelect(keys, chunks, rank: rank) }
        var sample: [UInt32] = []
        sample.reserveCapacity(sampleSize + keys.count)
        let step = total / sampleSize
        var offset = 0   // global index of the segment's first key
        for segment in keys {
            var i = (step - offset % step) % step
            while i < segment.count {
                sample.append(segment[i])
                i += step
            }
            offset += segment.count
        }
        sample.sort()
        let at = Double(rank) / Double(total) * Double(sample.count)
        // The sample's count below the rank's key is binomial: standard deviation at most
        // √sampleSize / 2, so the margin is four of them.
        let margin = 2 * Double(sampleSize).squareRoot() + 8
        // The bracket is open: a block of equal keys at either end (the pruned entries, all at
        // the key of −∞, lie just below the rank in SynFlow's late rounds) is counted or left
        // out, not collected.
        guard at - margin >= 0, at + margin < Double(sample.count) else { return radixSelect(keys, chunks, rank: rank) }
        let low = sample[Int(at - margin)], high = sample[Int(at + margin)]

        var below = [Int](repeating: 0, count: chunks.count)
        var inside = [[UInt32]](repeating: [], count: chunks.count)
        below.withUnsafeMutableBufferPointer { below in
            inside.withUnsafeMutableBufferPointer { inside in
                Parallel.forEach(chunks.count) { some in for c in some {
                    keys[chunks[c].segment].withUnsafeBufferPointer { buffer in
                        let x = buffer.baseAddress!
                        let range = chunks[c].range
                        (below[c], inside[c]) = bracket(x + range.lowerBound, range.count, above: low, below: high)
                    }
                } }
            }
        }
        let belowBracket = below.reduce(0, +)
        let candidates = Array(inside.joined())
        guard belowBracket <= rank, rank < belowBracket + candidates.count else {
            return radixSelect(keys, chunks, rank: rank)
        }
        let found = radixSelect([candidates], Chunk.split([candidates.count]), rank: rank - belowBracket)
        return (found.key, belowBracket + found.below)
    }

    /// How many of the `n` keys at `x` are at most `low`, and those strictly between `low` and
    /// `high`, in order. One pass in explicit vectors of 16 keys. About a third of the vectors
    /// hold a key inside the bracket; those turn their lanes into a bit mask and append the keys
    /// of its set bits. (A scalar loop over every key, branch-free, took about twice as long.)
    static func bracket(_ x: UnsafePointer<UInt32>, _ n: Int, above low: UInt32, below high: UInt32) -> (Int, [UInt32]) {
        var found: [UInt32] = []
        found.reserveCapacity(n / 16)
        // `low < key < high` as one unsigned comparison: `key − (low + 1) < width`.
        let start = low &+ 1, width = high > low ? high &- low &- 1 : 0
        let lows = SIMD16<UInt32>(repeating: low), starts = SIMD16<UInt32>(repeating: start)
        let widths = SIMD16<UInt32>(repeating: width), one = SIMD16<UInt32>(repeating: 1)
        let bits = SIMD16<UInt32>(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)
        var lanes = SIMD16<UInt32>()
        var i = 0
        while i &+ 16 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<UInt32>.self)
            lanes &+= one.replacing(with: 0, where: v .> lows)
            let inside = (v &- starts) .< widths
            if any(inside) {
                var set = SIMD16<UInt32>().replacing(with: bits, where: inside).wrappedSum()
                while set != 0 {
                    found.append(x[i &+ set.trailingZeroBitCount])
                    set &= set &- 1
                }
            }
            i &+= 16
        }
        var count = Int(lanes.wrappedSum())
        while i < n {
            count &+= x[i] <= low ? 1 : 0
            if x[i] &- start < width { found.append(x[i]) }
            i &+= 1
        }
        return (count, found)
    }

    /// Keys sampled by `thresholdKey`.
    static let sampleSize = 1 << 14

    /// `thresholdKey` by two histogram passes over all the keys: the high 16 bits locate the
    /// bucket holding the rank's key, the low 16 bits within that bucket the key itself.
    static func radixSelect(_ keys: [[UInt32]], _ chunks: [Chunk], rank: Int) -> (key: UInt32, below: Int) {
        let high = Histogram.count(chunks) { c, bins in
            keys[chunks[c].segment].withUnsafeBufferPointer { buffer in
                let x = buffer.baseAddress!
                for i in chunks[c].range { bins[Int(x[i] >> 16)] &+= 1 }
            }
        }
        let (highBucket, belowHigh) = locate(high, rank: rank)
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
        return (prefix << 16 | UInt32(lowBucket), belowHigh + belowLow)
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

        /// Runs `body(chunk, bins)` for every chunk, then sums the workers' bins.
        static func count(_ chunks: [Chunk], _ body: (Int, UnsafeMutablePointer<UInt32>) -> Void) -> [Int] {
            let workers = Swift.max(1, Swift.min(Parallel.threads, chunks.count))
            var partial = [UInt32](repeating: 0, count: workers * bins)
            partial.withUnsafeMutableBufferPointer { counts in
                let counts = counts   // each worker writes only its own bins
                Parallel.forEach(workers, threads: workers) { range in
                    for w in range {
                        for c in stride(from: w, to: chunks.count, by: workers) { body(c, counts.baseAddress! + w * bins) }
                    }
                }
            }
            var result = [Int](repeating: 0, count: bins)
            for w in 0..<workers {
                for b in 0..<bins { result[b] += Int(partial[w * bins + b]) }
            }
            return result
        }
    }

    /// A fixed-size piece of one key array.
    struct Chunk {
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
