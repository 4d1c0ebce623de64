import PrnKernel
import XCTest
@testable import PrnData

final class BatchesTests: XCTestCase {
    /// A split whose example `i` is filled with the value `i`, so rows are easy to identify.
    func numbered(_ n: Int, shape: [Int] = [1, 2, 3]) -> DataSplit {
        let size = Shape.count(shape)
        let images = Tensor(shape: [n] + shape, scalars: (0..<n * size).map { Float($0 / size) })
        return DataSplit(images: images, labels: (0..<n).map { $0 % 7 }, normalization: .identity)
    }

    func testEveryExampleExactlyOncePerEpoch() throws {
        let split = numbered(103)
        for epoch in 0..<3 {
            let batches = try split.batches(size: 10, seed: 5, epoch: epoch)
            XCTAssertEqual(batches.count, 11)
            var seen: [Int] = []
            for (i, batch) in batches.enumerated() {
                XCTAssertEqual(batch.index, i)
                XCTAssertEqual(batch.images.shape, [batch.indices.count, 1, 2, 3])
                XCTAssertEqual(batch.labels, batch.indices.map { $0 % 7 })
                for (row, example) in batch.indices.enumerated() {
                    XCTAssertEqual(Array(batch.images.scalars[row * 6..<(row + 1) * 6]), [Float](repeating: Float(example), count: 6))
                }
                seen += batch.indices
            }
            XCTAssertEqual(seen.sorted(), Array(0..<103))
            XCTAssertEqual(batches.last?.labels.count, 3, "the last partial batch is kept by default")
        }
    }

    func testOrderIsTheSeededPermutationAndDiffersAcrossEpochs() throws {
        let split = numbered(50)
        let e0 = try split.batches(size: 8, seed: 9, epoch: 0).flatMap(\.indices)
        let e0again = try split.batches(size: 8, seed: 9, epoch: 0).flatMap(\.indices)
        let e1 = try split.batches(size: 8, seed: 9, epoch: 1).flatMap(\.indices)
        let otherSeed = try split.batches(size: 8, seed: 10, epoch: 0).flatMap(\.indices)
        XCTAssertEqual(e0, e0again)
        XCTAssertNotEqual(e0, e1)
        XCTAssertNotEqual(e0, otherSeed)
        var rng = RNG(seed: 9, purpose: .dataOrder).split(1)
        XCTAssertEqual(e1, rng.permutation(50))
        // The order does not depend on the batch size.
        XCTAssertEqual(try split.batches(size: 7, seed: 9, epoch: 1).flatMap(\.indices), e1)
    }

    func testUnshuffledAndDropLast() throws {
        let split = numbered(10)
        XCTAssertEqual(try split.batches(size: 4, shuffle: false).map(\.indices), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        let dropped = try split.batches(size: 4, seed: 1, dropLast: true)
        XCTAssertEqual(dropped.map(\.indices.count), [4, 4])
        XCTAssertEqual(try split.batches(size: 5, dropLast: true).count, 2)
        XCTAssertEqual(try split.batches(size: 11, dropLast: true).count, 0)
        XCTAssertEqual(try split.batches(size: 11).count, 1)
    }

    func testBadRequests() {
        let split = numbered(10)
        assertDataError("batch size must be positive, got 0") { try split.batches(size: 0) }
        assertDataError("epoch must be ≥ 0, got -1") { try split.batches(size: 2, epoch: -1) }
        let flat = numbered(4, shape: [6])
        assertDataError("augmentation needs images of shape [C, H, W], these examples are [6]") {
            try flat.batches(size: 2, augmentation: .cifar)
        }
    }

    func testGatherCopiesRowsExactly() {
        let split = numbered(20)
        let (images, labels) = split.gather([19, 0, 7, 7])
        XCTAssertEqual(images.shape, [4, 1, 2, 3])
        XCTAssertEqual(images.scalars, [19, 0, 7, 7].flatMap { [Float](repeating: Float($0), count: 6) })
        XCTAssertEqual(labels, [19 % 7, 0, 0, 0])
    }

    func testSubset() throws {
        let split = numbered(300)
        let a = try split.subset(count: 100, seed: 3)
        let b = try split.subset(count: 100, seed: 3)
        let c = try split.subset(count: 100, seed: 4)
        XCTAssertEqual(a.count, 100)
        XCTAssertEqual(a.images, b.images)
        XCTAssertNotEqual(a.images, c.images)
        let chosen = (0..<100).map { Int(a.images.scalars[$0 * 6]) }
        XCTAssertEqual(Set(chosen).count, 100, "examples are distinct")
        XCTAssertEqual(a.labels, chosen.map { $0 % 7 })
        XCTAssertEqual(try split.subset(count: 300, seed: 1).count, 300)
        assertDataError("cannot take a subset of 301 examples from a split of 300") { try split.subset(count: 301, seed: 1) }
    }

    /// Iterating feature-major batches copies the next batches in the background, in runs of
    /// `Prefetch.runLength`, when prn may use two threads; the batches must be exactly those the
    /// subscript gives, augmented or not, on any thread count (nine batches: two runs, the second
    /// ending at the epoch's end), and a loop may stop early with a copy still in flight.
    func testIterationGivesTheSubscriptsBatches() throws {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        // Random pixels, so a wrong crop or flip shows.
        let split = DataSplit(images: Tensor.randn([70, 3, 4, 4], seed: 2), labels: (0..<70).map { $0 % 7 }, normalization: .identity)
        for augmentation in [nil, Augmentation.cifar] {
            let batches = try split.batches(size: 8, seed: 3, epoch: 1, augmentation: augmentation, featureMajor: true)
            let expected = (0..<batches.count).map { batches[$0] }
            for threads in [1, 2, 3] {
                Parallel.threads = threads
                var seen = 0
                for (i, batch) in batches.enumerated() {
                    XCTAssertEqual(batch.index, i)
                    XCTAssertEqual(batch.indices, expected[i].indices)
                    XCTAssertEqual(batch.labels, expected[i].labels)
                    XCTAssertEqual(batch.images, expected[i].images, "batch \(i), \(threads) threads, augmentation \(augmentation != nil)")
                    XCTAssertEqual(batch.featureMajorImages, expected[i].featureMajorImages)
                    seen += 1
                }
                XCTAssertEqual(seen, 9)
                XCTAssertLessThan(Batches.Prefetch.runLength, 8, "the nine batches span more than one run")
                // Leaving the loop early drops the iterator with a run of copies under way, in
                // the first run and in the second: that waits for the run, so none is left running.
                for stop in [1, Batches.Prefetch.runLength + 1] {
                    for (i, batch) in batches.enumerated() {
                        XCTAssertEqual(batch.images, expected[i].images)
                        if i == stop { break }
                    }
                    XCTAssertEqual(Batches.Prefetch.running.load(ordering: .relaxed), 0)
                }
            }
        }
        // Augmentation changes the rows, so the comparisons above also saw augmented copies.
        let augmented = try split.batches(size: 8, seed: 3, epoch: 1, augmentation: .cifar)
        XCTAssertNotEqual(augmented[0].images, split.gather(augmented[0].indices).images)
    }
}
