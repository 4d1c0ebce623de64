import Foundation
import XCTest
import PrnTestSupport
@testable import PrnData

/// The real Fashion-MNIST from Debian's `dataset-fashion-mnist`, when installed.
final class FashionTests: XCTestCase {
    func testDebianFashionMNIST() throws {
        try References.require(FileManager.default.fileExists(atPath: DataSource.fashionDirectory + "/train-images-idx3-ubyte.gz"),
                               "Debian's dataset-fashion-mnist")
        let start = Date()
        let data = try Dataset.load(.fashion(), cache: DatasetCache())
        let seconds = Date().timeIntervalSince(start)
        print("Fashion-MNIST loaded in \(String(format: "%.3f", seconds)) s: \(data)")
        XCTAssertEqual(data.train.count, 60000)
        XCTAssertEqual(data.test.count, 10000)
        XCTAssertEqual(data.classes, 10)
        XCTAssertEqual(data.inputShape, [1, 28, 28])
        XCTAssertEqual(data.train.classCounts(classes: 10), [Int](repeating: 6000, count: 10))
        XCTAssertEqual(data.test.classCounts(classes: 10), [Int](repeating: 1000, count: 10))
        // The constants were computed from this data, so normalized training pixels are standardized.
        var sum = 0.0, squares = 0.0
        for v in data.train.images.scalars {
            sum += Double(v)
            squares += Double(v) * Double(v)
        }
        let n = Double(data.train.images.count)
        let mean = sum / n, std = (squares / n - mean * mean).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(std, 1, accuracy: 0.01)
    }
}
