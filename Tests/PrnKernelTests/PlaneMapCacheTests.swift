import XCTest
@testable import PrnKernel

/// `SlidingPlan.planeMap` with its cache (`PlaneMapCache`) gives the map built from the weights
/// at hand, bit for bit: again for the same weights, a new one for weights that differ in a
/// single bit (+0 against −0), for two layers of one shape taken in turns, and not the map of
/// another shape with the same weights.
final class PlaneMapCacheTests: XCTestCase {
    func plan(channels: Int, side: Int) throws -> SlidingPlan {
        SlidingPlan(try ConvGeometry(input: [3, channels, side, side], weight: [channels, channels, 3, 3], stride: 1, padding: 1))
    }

    func map(_ plan: SlidingPlan, _ w: [Float]) -> [UInt32] {
        w.withUnsafeBufferPointer { plan.planeMap($0.baseAddress!) }.map(\.bitPattern)
    }

    func built(_ plan: SlidingPlan, _ w: [Float]) -> [UInt32] {
        w.withUnsafeBufferPointer { plan.buildPlaneMap($0.baseAddress!) }.map(\.bitPattern)
    }

    func testCachedMapsAreTheMapsOfTheWeightsAtHand() throws {
        let layer = try plan(channels: 5, side: 2)
        XCTAssertTrue(layer.usesPlaneMap)
        var first = Tensor.randn([5, 5, 3, 3], seed: 1).scalars
        first[7] = 0
        var signFlipped = first
        signFlipped[7] = -0.0
        let second = Tensor.randn([5, 5, 3, 3], seed: 2).scalars
        for _ in 0..<2 {
            for w in [first, second, signFlipped, first, second] {
                XCTAssertEqual(map(layer, w), built(layer, w))
            }
        }
        XCTAssertNotEqual(map(layer, first), map(layer, signFlipped), "+0 and −0 weights should give different maps")
        // Another plane of the same weights (1 × 2 against 2 × 2) is another map.
        let row = SlidingPlan(try ConvGeometry(input: [3, 5, 1, 2], weight: [5, 5, 3, 3], stride: 1, padding: 1))
        XCTAssertTrue(row.usesPlaneMap)
        XCTAssertEqual(map(row, first), built(row, first))
        XCTAssertEqual(map(layer, first), built(layer, first))
    }
}
