import XCTest
@testable import PrnData

final class CIFARTests: XCTestCase {
    func testRoundTripPerChannelNormalization() throws {
        for (gzip, subfolder) in [(false, false), (true, true)] {
            let root = try temporaryDirectory(self)
            let dir = subfolder ? root + "/cifar-10-batches-bin" : root
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try writeCIFAR(in: dir, records: 2, gzip: gzip)
            let data = try Dataset.load(.cifar10(path: root), cache: DatasetCache())
            XCTAssertEqual(data.train.images.shape, [10, 3, 32, 32])
            XCTAssertEqual(data.test.images.shape, [2, 3, 32, 32])
            XCTAssertEqual(data.classes, 10)
            XCTAssertEqual(data.classNames[0], "airplane")
            XCTAssertEqual(data.augmentation, .cifar)
            // Training records come from data_batch_1 … 5 in order, two each.
            XCTAssertEqual(data.train.labels, (0..<5).flatMap { f in (0..<2).map { r in (r + f) % 10 } })
            XCTAssertEqual(data.test.labels, [5, 6])
            let mean: [Float] = [0.491, 0.482, 0.447], std: [Float] = [0.247, 0.243, 0.262]
            for example in 0..<10 {
                let (f, r) = example.quotientAndRemainder(dividingBy: 2)
                let raw = pattern(3072, salt: f * 100 + r)
                for i in stride(from: 0, to: 3072, by: 97) {
                    let c = i / 1024
                    XCTAssertEqual(data.train.images.scalars[example * 3072 + i], (Float(raw[i]) / 255 - mean[c]) / std[c])
                }
            }
            let rawTest = pattern(3072, salt: 5 * 100 + 1)
            XCTAssertEqual(data.test.images.scalars[3072 + 2048], (Float(rawTest[2048]) / 255 - 0.447) / 0.262)
        }
    }

    func testReadSingleBatch() throws {
        let dir = try temporaryDirectory(self)
        try write(cifarBytes(records: 3, salt: 4), to: dir + "/b.bin")
        let split = try CIFAR.read(dir + "/b.bin")
        XCTAssertEqual(split.images.shape, [3, 3, 32, 32])
        XCTAssertEqual(split.labels, [4, 5, 6])
    }

    func testTruncatedBadLabelEmptyAndMissing() throws {
        let dir = try temporaryDirectory(self)
        try write(Array(cifarBytes(records: 3, salt: 0).prefix(3073 * 2 + 100)), to: dir + "/t.bin")
        assertDataError("t.bin: truncated: 6246 bytes is not a whole number of 3073-byte records (2 records and 100 bytes)") {
            try CIFAR.read(dir + "/t.bin")
        }
        var bad = cifarBytes(records: 3, salt: 0)
        bad[2 * 3073] = 10
        try write(bad, to: dir + "/l.bin")
        assertDataError("l.bin: record 2: label 10 is not below 10 classes") { try CIFAR.read(dir + "/l.bin") }
        try write([], to: dir + "/e.bin")
        assertDataError("e.bin: empty file: no 3073-byte records") { try CIFAR.read(dir + "/e.bin") }

        let empty = try temporaryDirectory(self)
        assertDataError("cifar10: no data_batch_1.bin[.gz] in \(empty) (nor in its cifar-10-batches-bin/); download CIFAR-10's binary version (cifar-10-binary.tar.gz), unpack it there, or pass path=DIR") {
            try Dataset.load(.cifar10(path: empty), cache: DatasetCache())
        }
        try writeCIFAR(in: empty)
        try FileManager.default.removeItem(atPath: empty + "/test_batch.bin")
        assertDataError(containing: ["cifar10: no test_batch.bin[.gz] in \(empty)"]) {
            try Dataset.load(.cifar10(path: empty), cache: DatasetCache())
        }
    }

    func testBadFileInsideADataSet() throws {
        let dir = try temporaryDirectory(self)
        try writeCIFAR(in: dir)
        try write(Array(cifarBytes(records: 2, salt: 0).dropLast()), to: dir + "/data_batch_3.bin")
        assertDataError(containing: ["data_batch_3.bin: truncated: 6145 bytes"]) {
            try Dataset.load(.cifar10(path: dir), cache: DatasetCache())
        }
    }
}
