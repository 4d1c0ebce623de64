import XCTest
@testable import PrnData

final class DatasetTests: XCTestCase {
    func testSecondLoadComesFromTheCache() throws {
        let dir = try temporaryDirectory(self)
        try writeMNIST(in: dir, gzip: true)
        let cache = DatasetCache()
        let first = try Dataset.load(.mnist(path: dir), cache: cache)
        XCTAssertEqual(cache.count, 1)
        // With the files gone, only the cache can answer.
        try FileManager.default.removeItem(atPath: dir + "/train-images-idx3-ubyte.gz")
        let second = try Dataset.load(.mnist(path: dir + "/"), cache: cache)
        XCTAssertEqual(second.train.images, first.train.images)
        XCTAssertEqual(cache.count, 1, "the same folder written differently is the same key")
        XCTAssertTrue(cache.contains(first.source))
        cache.removeAll()
        XCTAssertThrowsError(try Dataset.load(.mnist(path: dir), cache: cache))
    }

    func testSharedCacheIsTheDefault() throws {
        let spec = SyntheticSpec(classes: 2, shape: [3], train: 4, test: 2, seed: 987_654)
        _ = try Dataset.load(.synthetic(spec))
        XCTAssertTrue(DatasetCache.shared.contains(.synthetic(spec)))
    }

    func testValidationHoldsOutTheLastExamples() throws {
        let dir = try temporaryDirectory(self)
        try writeMNIST(in: dir, train: 12)
        let cache = DatasetCache()
        let full = try Dataset.load(.mnist(path: dir), cache: cache)
        let held = try Dataset.load(.mnist(path: dir), validation: 5, cache: cache)
        XCTAssertEqual(cache.count, 2)
        let val = try XCTUnwrap(held.validation)
        XCTAssertNil(full.validation)
        XCTAssertEqual(held.train.count, 7)
        XCTAssertEqual(val.count, 5)
        XCTAssertEqual(held.train.labels, Array(full.train.labels[0..<7]))
        XCTAssertEqual(val.labels, Array(full.train.labels[7..<12]))
        XCTAssertEqual(held.train.images.scalars, Array(full.train.images.scalars[0..<(7 * 12)]))
        XCTAssertEqual(val.images.scalars, Array(full.train.images.scalars[(7 * 12)...]))
        XCTAssertEqual(held.test.images, full.test.images)
        XCTAssertEqual(held.split(.validation)?.count, 5)
        XCTAssertTrue(held.description.contains("7 train, 5 val, 5 test"), held.description)

        assertDataError("mnist: val=12 leaves no training examples (the training split has 12)") {
            try Dataset.load(.mnist(path: dir), validation: 12, cache: cache)
        }
        assertDataError("mnist: val=-1 must be ≥ 0") { try Dataset.load(.mnist(path: dir), validation: -1, cache: cache) }
    }

    func testDescriptionIsOneLine() throws {
        let data = try Dataset.load(.synthetic(SyntheticSpec(train: 10, test: 5)), cache: DatasetCache())
        XCTAssertEqual(data.description.split(separator: "\n").count, 1)
        XCTAssertTrue(data.description.hasPrefix("synthetic: 10 train, 5 test, 10 classes, [1, 28, 28], normalized none, crc32:"),
                      data.description)
    }
}
