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
        let keys = segments.map { s in MaskSelection.keys(scores: Tensor(shape: [s.count], scalars: s), mask: nil, invert: false).keys }
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
        let keys = MaskSelection.keys(scores: scores, mask: mask, invert: false).keys
        XCTAssertEqual(MaskSelection.keepMasks([keys], shapes: [[6]], remove: 3)[0].scalars, [0, 1, 1, 1, 0, 0])
        let inverted = MaskSelection.keys(scores: scores, mask: mask, invert: true).keys
        XCTAssertEqual(MaskSelection.keepMasks([inverted], shapes: [[6]], remove: 3)[0].scalars, [0, 0, 1, 1, 1, 0])
    }
}
