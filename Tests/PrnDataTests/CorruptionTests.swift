import XCTest
import PrnKernel
@testable import PrnData

/// Su et al.'s corrupted scoring data: the invariants that define "random labels" and
/// "shuffled pixels" in prn.
final class CorruptionTests: XCTestCase {
    func synthetic(shape: [Int], train: Int = 500, classes: Int = 10) throws -> Dataset {
        try Dataset.load(.synthetic(SyntheticSpec(classes: classes, shape: shape, train: train, test: 50, seed: 5)),
                         cache: DatasetCache())
    }

    func testLabelsChangeAtExactlyTheRequestedFractionToOtherClasses() throws {
        let d = try synthetic(shape: [4])
        for fraction in [1.0, 0.5, 0.25, 0.0] {
            let c = try d.corrupted(.labels(fraction: fraction), seed: 3)
            let changed = zip(d.train.labels, c.train.labels).filter { $0 != $1 }.count
            XCTAssertEqual(changed, Int((fraction * 500).rounded()), "fraction \(fraction)")
            XCTAssertTrue(c.train.labels.allSatisfy { (0..<10).contains($0) })
            XCTAssertEqual(c.train.images, d.train.images, "images untouched")
            XCTAssertEqual(c.test.labels, d.test.labels, "the test split stays clean")
        }
        // At fraction 1 the new labels are spread over the other classes: every true class sends
        // its examples to several wrong ones, none of them itself.
        let c = try d.corrupted(.labels(fraction: 1), seed: 3)
        for y in 0..<10 {
            let targets = Set(zip(d.train.labels, c.train.labels).filter { $0.0 == y }.map(\.1))
            XCTAssertFalse(targets.contains(y))
            XCTAssertGreaterThan(targets.count, 5, "class \(y)")
        }
        XCTAssertEqual(try d.corrupted(.labels(fraction: 0.5), seed: 3).train.labels,
                       try d.corrupted(.labels(fraction: 0.5), seed: 3).train.labels)
        XCTAssertNotEqual(try d.corrupted(.labels(fraction: 0.5), seed: 4).train.labels,
                          try d.corrupted(.labels(fraction: 0.5), seed: 3).train.labels)
        assertDataError("fraction=1.5 must be between 0 and 1") { try d.corrupted(.labels(fraction: 1.5), seed: 1) }
    }

    func testPixelsArePermutedWithinEachImageByOneFixedPermutation() throws {
        let d = try synthetic(shape: [2, 3, 4], train: 40)
        let c = try d.corrupted(.pixels, seed: 8)
        XCTAssertEqual(c.train.labels, d.train.labels)
        XCTAssertEqual(c.test.images, d.test.images)
        XCTAssertNotEqual(c.train.images, d.train.images)
        // Recover the permutation from the first image's first channel (values are distinct), then
        // check that it maps every channel of every image.
        let size = 24, positions = 12
        let x = d.train.images.scalars, y = c.train.images.scalars
        let permutation = (0..<positions).map { to in (0..<positions).first { x[$0] == y[to] }! }
        XCTAssertEqual(Set(permutation).count, positions, "a permutation")
        XCTAssertNotEqual(permutation, Array(0..<positions))
        for example in 0..<40 {
            for channel in 0..<2 {
                let base = example * size + channel * positions
                for to in 0..<positions { XCTAssertEqual(y[base + to], x[base + permutation[to]]) }
            }
            XCTAssertEqual(y[(example * size)..<((example + 1) * size)].sorted(), x[(example * size)..<((example + 1) * size)].sorted())
        }
    }
}
