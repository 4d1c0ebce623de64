import PrnKernel
import XCTest
@testable import PrnData

final class AugmentTests: XCTestCase {
    /// Random CIFAR-shaped data, normalized like CIFAR-10 so padding has a non-zero value.
    func images(_ n: Int, channels: Int = 3, side: Int = 32) -> DataSplit {
        let t = Tensor.rand([n, channels, side, side], seed: 11)
        return DataSplit(images: t, labels: (0..<n).map { $0 % 10 }, normalization: .cifar10)
    }

    func testOffsetsStayInRangeAndCoverIt() {
        let rng = RNG(seed: 1)
        var dys = Set<Int>(), dxs = Set<Int>(), flips = 0
        for p in 0..<4000 {
            let d = Augmentation.cifar.draw(rng, position: p)
            XCTAssertTrue((0...8).contains(d.dy) && (0...8).contains(d.dx))
            dys.insert(d.dy)
            dxs.insert(d.dx)
            if d.flipped { flips += 1 }
        }
        XCTAssertEqual(dys, Set(0...8))
        XCTAssertEqual(dxs, Set(0...8))
        XCTAssertEqual(Double(flips) / 4000, 0.5, accuracy: 0.05)
        XCTAssertFalse((0..<100).contains { Augmentation(padding: 4, flip: false).draw(rng, position: $0).flipped })
    }

    func testCropAndFlipMatchTheDefinition() throws {
        let split = images(40)
        let batches = try split.batches(size: 16, seed: 3, epoch: 2, augmentation: .cifar)
        let pad: [Float] = (0..<3).map { -Normalization.cifar10.mean[$0] / Normalization.cifar10.std[$0] }
        for batch in batches {
            for (row, example) in batch.indices.enumerated() {
                let draw = try XCTUnwrap(batches.augmentationDraw(position: batch.index * 16 + row))
                for c in 0..<3 {
                    for y in 0..<32 {
                        for x in 0..<32 {
                            let cx = draw.flipped ? 31 - x : x
                            let sy = y + draw.dy - 4, sx = cx + draw.dx - 4
                            let inside = (0..<32).contains(sy) && (0..<32).contains(sx)
                            let source: Int = ((example * 3 + c) * 32 + sy) * 32 + sx
                            let expected: Float = inside ? split.images.scalars[source] : pad[c]
                            let target: Int = ((row * 3 + c) * 32 + y) * 32 + x
                            XCTAssertEqual(batch.images.scalars[target], expected)
                        }
                    }
                }
            }
        }
    }

    func testFlipIsAnExactMirror() throws {
        let split = images(64, channels: 2, side: 5)
        let batch = try split.batches(size: 64, seed: 8, augmentation: Augmentation(padding: 0, flip: true))[0]
        var mirrored = 0
        for (row, example) in batch.indices.enumerated() {
            let original = Array(split.images.scalars[example * 50..<(example + 1) * 50])
            let out = Array(batch.images.scalars[row * 50..<(row + 1) * 50])
            let mirror: [Float] = (0..<50).map { (i: Int) -> Float in
                let (y, x) = i.quotientAndRemainder(dividingBy: 5)
                return original[y * 5 + 4 - x]
            }
            if out == mirror { mirrored += 1 } else { XCTAssertEqual(out, original) }
        }
        XCTAssertTrue((16...48).contains(mirrored), "\(mirrored) of 64 flipped")
    }

    func testDeterministicPerSeedAndThreadCount() throws {
        let split = images(100)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = try split.batches(size: 50, seed: 4, epoch: 1, augmentation: .cifar).map(\.images)
        Parallel.threads = 2
        let two = try split.batches(size: 50, seed: 4, epoch: 1, augmentation: .cifar).map(\.images)
        XCTAssertEqual(one, two)
        let otherSeed = try split.batches(size: 50, seed: 5, epoch: 1, augmentation: .cifar).map(\.images)
        let otherEpoch = try split.batches(size: 50, seed: 4, epoch: 2, augmentation: .cifar).map(\.images)
        XCTAssertNotEqual(one, otherSeed)
        XCTAssertNotEqual(one, otherEpoch)
        // The draws follow the epoch order, not the batching.
        let byTen = try split.batches(size: 10, seed: 4, epoch: 1, augmentation: .cifar)
        XCTAssertEqual(Array(byTen[5].images.scalars), Array(one[1].scalars[0..<(10 * 3072)]))
    }

    func testNoAugmentationLeavesImagesAlone() throws {
        let split = images(8)
        let batch = try split.batches(size: 8, shuffle: false)[0]
        XCTAssertEqual(batch.images, split.images)
    }
}
