import PrnKernel
import XCTest
@testable import PrnData

final class SyntheticTests: XCTestCase {
    func testShapesAndClasses() throws {
        let data = try Dataset.load(.synthetic(SyntheticSpec(classes: 4, shape: [3, 8, 8], train: 40, test: 12, seed: 1)),
                                    cache: DatasetCache())
        XCTAssertEqual(data.name, "synthetic")
        XCTAssertEqual(data.classes, 4)
        XCTAssertEqual(data.inputShape, [3, 8, 8])
        XCTAssertEqual(data.train.images.shape, [40, 3, 8, 8])
        XCTAssertEqual(data.test.images.shape, [12, 3, 8, 8])
        XCTAssertEqual(data.train.classCounts(classes: 4), [10, 10, 10, 10])
        XCTAssertTrue(data.test.labels.allSatisfy { (0..<4).contains($0) })
        XCTAssertEqual(data.normalization, .identity)

        let flat = try Dataset.load(.synthetic(SyntheticSpec(shape: [20])), cache: DatasetCache())
        XCTAssertEqual(flat.train.images.shape, [1000, 20])
        XCTAssertEqual(flat.test.images.shape, [200, 20])
        XCTAssertEqual(flat.classes, 10)
        XCTAssertEqual(try Dataset.load(.synthetic(SyntheticSpec()), cache: DatasetCache()).inputShape, [1, 28, 28])
    }

    func testDeterministicPerSeed() throws {
        let spec = SyntheticSpec(classes: 3, shape: [16], train: 30, test: 9, noise: 0.5, seed: 42)
        let a = try Dataset.load(.synthetic(spec), cache: DatasetCache())
        let b = try Dataset.load(.synthetic(spec), cache: DatasetCache())
        XCTAssertEqual(a.train.images, b.train.images)
        XCTAssertEqual(a.test.images, b.test.images)
        XCTAssertEqual(a.checksum, b.checksum)
        var other = spec
        other.seed = 43
        let c = try Dataset.load(.synthetic(other), cache: DatasetCache())
        XCTAssertNotEqual(a.train.images, c.train.images)
        XCTAssertNotEqual(a.checksum, c.checksum)
    }

    func testClustersAreSeparableAtLowNoise() throws {
        // Nearest class mean (estimated on train) classifies every test example when noise is small.
        let data = try Dataset.load(.synthetic(SyntheticSpec(classes: 5, shape: [10], train: 100, test: 50, noise: 0.1, seed: 7)),
                                    cache: DatasetCache())
        var means = [[Float]](repeating: [Float](repeating: 0, count: 10), count: 5)
        for i in 0..<100 {
            for j in 0..<10 { means[data.train.labels[i]][j] += data.train.images.scalars[i * 10 + j] / 20 }
        }
        for i in 0..<50 {
            let x = data.test.images.scalars[i * 10..<(i + 1) * 10]
            let distances = means.map { m in zip(m, x).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) }
            XCTAssertEqual(distances.firstIndex(of: distances.min()!), data.test.labels[i])
        }
        // Features have variance about 1 whatever the noise.
        let v = data.train.images.scalars.map { Double($0 * $0) }.reduce(0, +) / 1000
        XCTAssertEqual(v, 1, accuracy: 0.5)
    }

    func testValidation() {
        assertDataError("synthetic: classes=1 must be in 2...1048576") {
            try Dataset.load(.synthetic(SyntheticSpec(classes: 1)), cache: DatasetCache())
        }
        assertDataError("synthetic: shape [1, 0, 4] must be [D] or [C, H, W] with positive sizes") {
            try Dataset.load(.synthetic(SyntheticSpec(shape: [1, 0, 4])), cache: DatasetCache())
        }
        assertDataError("synthetic: train=0 must be positive") {
            try Dataset.load(.synthetic(SyntheticSpec(train: 0)), cache: DatasetCache())
        }
        assertDataError("synthetic: noise=-1.0 must be a finite number ≥ 0") {
            try Dataset.load(.synthetic(SyntheticSpec(noise: -1)), cache: DatasetCache())
        }
        assertDataError(containing: ["synthetic: train=4611686018427387904 examples", "too large"]) {
            try Dataset.load(.synthetic(SyntheticSpec(train: 1 << 62)), cache: DatasetCache())
        }
    }
}
