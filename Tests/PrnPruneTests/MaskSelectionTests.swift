import XCTest
import PrnKernel
@testable import PrnPrune

final class MaskSelectionTests: XCTestCase {
    /// The reference: sort all (score, global index) pairs and remove the first k.
    func referenceKeep(_ segments: [[Float]], remove k: Int) -> [Float] {
        let all = segments.flatMap { $0 }
        let order = all.indices.sorted { (all[$0], $0) < (all[$1], $1) }
        var keep = [Float](repeating: 1, count: all.count)
        for i in order.prefix(k) { keep[i] = 0 }
        return keep
    }

    func select(_ segments: [[Float]], remove k: Int) -> [Float] {
        let keys = segments.map { s in MaskSelection.keys(scores: Tensor(shape: [s.count], scalars: s), mask: nil, invert: false) }
        return MaskSelection.keepMasks(keys, shapes: segments.map { [$0.count] }, remove: k).flatMap(\.scalars)
    }

    func testKeyOrderIsFloatOrder() {
        let tiny = Float.leastNonzeroMagnitude
        let values: [Float] = [-.infinity, -3e38, -1, -tiny, 0, tiny, 1, 2, 3e38, .infinity]
        let keys = values.map(MaskSelection.key)
        XCTAssertEqual(keys, keys.sorted())
        XCTAssertEqual(Set(keys).count, values.count)
        XCTAssertEqual(MaskSelection.key(-0.0), MaskSelection.key(0.0))
    }

    func testExactCountWithManyTiesMatchesTheSortReference() {
        var rng = RNG(seed: 11)
        // Few distinct values (heavy ties), ±0, −∞, and a segment spanning several chunks.
        let sizes = [7, 1, 300_000, 0, 1000]
        let palette: [Float] = [-.infinity, -2, -0.0, 0, 0.5, 0.5, 1, 3]
        let segments = sizes.map { n in rng.uniform(count: n).map { palette[Int($0 * Float(palette.count)) % palette.count] } }
        let total = sizes.reduce(0, +)
        for k in [0, 1, 2, 17, 40_000, 150_001, total / 2, total - 1, total] {
            let keep = select(segments, remove: k)
            XCTAssertEqual(keep.count - Int(keep.reduce(0, +)), k, "k=\(k)")
            XCTAssertEqual(keep, referenceKeep(segments, remove: k), "k=\(k)")
        }
    }

    func testDistinctScoresAcrossSegments() {
        var rng = RNG(seed: 5)
        let segments = [Array(rng.normal(count: 5000)), Array(rng.normal(count: 200_000)), Array(rng.normal(count: 3))]
        for k in [1, 12_345, 205_002] {
            XCTAssertEqual(select(segments, remove: k), referenceKeep(segments, remove: k))
        }
    }

    func testMaskedEntriesGoFirstAndInvertRanksTheNegation() {
        let scores = Tensor(shape: [6], scalars: [5, 4, 3, 2, 1, 0])
        let mask = Tensor(shape: [6], scalars: [0, 1, 1, 1, 1, 0])
        let keys = MaskSelection.keys(scores: scores, mask: mask, invert: false)
        XCTAssertEqual(MaskSelection.keepMasks([keys], shapes: [[6]], remove: 3)[0].scalars, [0, 1, 1, 1, 0, 0])
        let inverted = MaskSelection.keys(scores: scores, mask: mask, invert: true)
        XCTAssertEqual(MaskSelection.keepMasks([inverted], shapes: [[6]], remove: 3)[0].scalars, [0, 0, 1, 1, 1, 0])
    }

    /// SynFlow's keys made from the factors are the keys of the written-out scores `m ⊙ |a ⊙ b|`
    /// (computed here in Double, each product exact in it, then rounded once as Float does), both
    /// ways round, and a non-finite product is caught even where the mask has pruned the entry.
    func testKeysOfAProductAreTheKeysOfTheMaskedProduct() {
        var rng = RNG(seed: 31)
        let n = 300_001   // several chunks and a ragged tail
        let a = Array(rng.normal(count: n)), b = Array(rng.normal(count: n))
        let m = rng.uniform(count: n).map { $0 < 0.3 ? Float(1) : 0 }
        let written = (0..<n).map { i in Float(Swift.abs(Double(a[i]) * Double(b[i]))) * m[i] }
        for invert in [false, true] {
            for mask in [Tensor(shape: [n], scalars: m), nil] {
                let scores = mask == nil ? (0..<n).map { Float(Swift.abs(Double(a[$0]) * Double(b[$0]))) } : written
                let reference = MaskSelection.keys(scores: Tensor(shape: [n], scalars: scores), mask: mask, invert: invert)
                let fused = MaskSelection.keys(magnitudeOfProduct: Tensor(shape: [n], scalars: a), Tensor(shape: [n], scalars: b),
                                               mask: mask, invert: invert)
                XCTAssertEqual(fused.keys, reference.keys, "invert=\(invert) mask=\(mask != nil)")
                XCTAssertEqual(fused.alive, reference.alive)
                XCTAssertTrue(fused.finite)
            }
        }
        var huge = a
        let pruned = m.firstIndex(of: 0)!
        huge[pruned] = .greatestFiniteMagnitude
        var big = b
        big[pruned] = 4   // overflows to ∞ in Float, though the entry is pruned
        let fused = MaskSelection.keys(magnitudeOfProduct: Tensor(shape: [n], scalars: huge), Tensor(shape: [n], scalars: big),
                                       mask: Tensor(shape: [n], scalars: m), invert: false)
        XCTAssertFalse(fused.finite)
    }

    /// Masks over large layers, most entries pruned (as in SynFlow's late rounds) and heavy ties
    /// among the live ones, across several chunks: pruned entries rank as −∞, and the result is
    /// the sort reference's on 1 and 2 threads.
    func testMostlyPrunedLayersMatchTheSortReferenceOnOneAndTwoThreads() {
        var rng = RNG(seed: 23)
        let sizes = [400_005, 3, 270_000]
        let palette: [Float] = [0, 0.25, 0.25, 1, 7]
        let scores = sizes.map { n in rng.uniform(count: n).map { palette[Int($0 * Float(palette.count)) % palette.count] } }
        let masks = sizes.map { n in rng.uniform(count: n).map { $0 < 0.1 ? Float(1) : 0 } }
        let ranked = scores.indices.map { l in zip(scores[l], masks[l]).map { $1 == 0 ? -Float.infinity : $0 } }
        let total = sizes.reduce(0, +)
        let pruned = masks.joined().filter { $0 == 0 }.count
        for k in [pruned, pruned + 1, pruned + 12_345, total - 2] {
            let reference = referenceKeep(ranked, remove: k)
            for threads in [1, 2] {
                let saved = Parallel.threads
                Parallel.threads = threads
                defer { Parallel.threads = saved }
                let layers = scores.indices.map { l in
                    MaskSelection.keys(scores: Tensor(shape: [sizes[l]], scalars: scores[l]),
                                       mask: Tensor(shape: [sizes[l]], scalars: masks[l]), invert: false)
                }
                XCTAssertEqual(layers.map(\.alive), masks.map { m in m.filter { $0 != 0 }.count })
                let keep = MaskSelection.keepMasks(layers, shapes: sizes.map { [$0] }, remove: k).flatMap(\.scalars)
                XCTAssertEqual(keep, reference, "k=\(k) threads=\(threads)")
            }
        }
    }

    /// The threshold key and the count below it, by the sampled bracket and by the radix select
    /// over all keys, against a sort: smooth scores, heavy ties, a rank inside a block of ties,
    /// the extremes, and an adversarial layout whose sample sees only one value.
    func testThresholdKeyMatchesTheSortBothWays() {
        var rng = RNG(seed: 41)
        let smooth = rng.normal(count: 300_007).map { $0 * $0 * $0 }
        let ties = rng.uniform(count: 200_000).map { Float(Int($0 * 5)) }
        // Every 8th entry (all the sample can see at this size) is 1; the rest spread below and above.
        let adversarial: [Float] = (0..<140_000).map { (i: Int) -> Float in
            if i % 8 == 0 { return 1 }
            return i % 3 == 0 ? -Float(i) : Float(i)
        }
        for values in [smooth, ties, adversarial] {
            let keys = values.map(MaskSelection.key)
            let sorted = keys.sorted()
            let chunks = MaskSelection.Chunk.split([keys.count])
            for rank in [0, 1, 17, keys.count / 3, keys.count / 2, keys.count - 2, keys.count - 1] {
                let expected = (key: sorted[rank], below: sorted.firstIndex(of: sorted[rank])!)
                for sampled in [true, false] {
                    let found = MaskSelection.thresholdKey([keys], chunks, rank: rank, sampled: sampled)
                    XCTAssertEqual(found.key, expected.key, "rank \(rank), sampled \(sampled)")
                    XCTAssertEqual(found.below, expected.below, "rank \(rank), sampled \(sampled)")
                }
            }
        }
    }

    /// The vector passes against scalar filters, at lengths around the 16-key vector (the
    /// scalar tails) and with keys at, inside and on either edge of the bracket.
    func testVectorPassesMatchScalarFiltersAtEveryLength() {
        var rng = RNG(seed: 5)
        for n in [0, 1, 15, 16, 17, 31, 33, 250, 1_001] {
            let keys = rng.uniform(count: n).map { UInt32($0 * 40) + 100 }
            for (low, high) in [(UInt32(110), UInt32(125)), (120, 121), (99, 141), (130, 110)] {
                let (count, found) = keys.withUnsafeBufferPointer { MaskSelection.bracket($0.baseAddress!, n, above: low, below: high) }
                XCTAssertEqual(count, keys.filter { $0 <= low }.count, "n \(n), low \(low)")
                XCTAssertEqual(found, keys.filter { $0 > low && $0 < high }, "n \(n), bracket \(low)..\(high)")
            }
            for threshold in [UInt32(99), 117, 140] {
                var out = [Float](repeating: -1, count: n)
                let ties = keys.withUnsafeBufferPointer { x in
                    out.withUnsafeMutableBufferPointer { MaskSelection.writeKeep(x.baseAddress!, $0.baseAddress!, n, threshold: threshold) }
                }
                XCTAssertEqual(out, keys.map { $0 >= threshold ? 1 : 0 }, "n \(n), threshold \(threshold)")
                XCTAssertEqual(ties, keys.filter { $0 == threshold }.count, "n \(n), threshold \(threshold)")
            }
        }
    }
}
