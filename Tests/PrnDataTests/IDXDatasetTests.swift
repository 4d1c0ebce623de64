import XCTest
@testable import PrnData

final class IDXDatasetTests: XCTestCase {
    func testMNISTValuesAreNormalizedExactly() throws {
        for gzip in [false, true] {
            let dir = try temporaryDirectory(self)
            let raw = try writeMNIST(in: dir, train: 12, test: 5, rows: 4, cols: 3, gzip: gzip)
            let data = try Dataset.load(.mnist(path: dir), cache: DatasetCache())
            XCTAssertEqual(data.name, "mnist")
            XCTAssertEqual(data.classes, 10)
            XCTAssertEqual(data.inputShape, [1, 4, 3])
            XCTAssertEqual(data.train.images.shape, [12, 1, 4, 3])
            XCTAssertEqual(data.test.images.shape, [5, 1, 4, 3])
            XCTAssertEqual(data.train.labels, (0..<12).map { $0 % 10 })
            XCTAssertEqual(data.test.labels, (0..<5).map { ($0 * 3) % 10 })
            XCTAssertEqual(data.normalization, .mnist)
            XCTAssertNil(data.augmentation)
            for (i, p) in raw.train.enumerated() {
                XCTAssertEqual(data.train.images.scalars[i], (Float(p) / 255 - 0.1307) / 0.3081)
            }
            for (i, p) in raw.test.enumerated() {
                XCTAssertEqual(data.test.images.scalars[i], (Float(p) / 255 - 0.1307) / 0.3081)
            }
            XCTAssertEqual(data.files.map { DataError.fileName($0) },
                           IDXDataset.fileNames.map { gzip ? $0 + ".gz" : $0 })
        }
    }

    func testNormalizationByHand() {
        // Pixel 0, 255 and 128 under each constant set, worked out on paper.
        XCTAssertEqual(Normalization.mnist.value(pixel: 0, channel: 0), -0.1307 / 0.3081, accuracy: 1e-6)
        XCTAssertEqual(Normalization.mnist.value(pixel: 255, channel: 0), (1 - 0.1307) / 0.3081, accuracy: 1e-6)
        XCTAssertEqual(Normalization.fashionMNIST.value(pixel: 128, channel: 0), (128.0 / 255 - 0.2860) / 0.3530, accuracy: 1e-6)
        XCTAssertEqual(Normalization.fashionMNIST.value(pixel: 255, channel: 0), 2.0226629, accuracy: 1e-6)
        XCTAssertEqual(Normalization.cifar10.value(pixel: 255, channel: 0), (1 - 0.491) / 0.247, accuracy: 1e-6)
        XCTAssertEqual(Normalization.cifar10.value(pixel: 0, channel: 1), -0.482 / 0.243, accuracy: 1e-6)
        XCTAssertEqual(Normalization.cifar10.value(pixel: 51, channel: 2), (0.2 - 0.447) / 0.262, accuracy: 1e-6)
        XCTAssertEqual(Normalization.identity.value(pixel: 51, channel: 0), 0.2, accuracy: 1e-7)
    }

    func testFashionFromAGivenPathUsesFashionConstants() throws {
        let dir = try temporaryDirectory(self)
        let raw = try writeMNIST(in: dir, gzip: true)
        let data = try Dataset.load(.fashion(path: dir), cache: DatasetCache())
        XCTAssertEqual(data.normalization, .fashionMNIST)
        XCTAssertEqual(data.classNames[9], "Ankle boot")
        XCTAssertEqual(data.train.images.scalars[7], (Float(raw.train[7]) / 255 - 0.2860) / 0.3530)
    }

    func testChecksumIsCRCOfTheInflatedFilesInOrder() throws {
        let dir = try temporaryDirectory(self)
        try writeMNIST(in: dir)
        let bytes = try IDXDataset.fileNames.flatMap { try Array(Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0))) }
        let plain = try Dataset.load(.mnist(path: dir), cache: DatasetCache())
        XCTAssertEqual(plain.checksum, Checksum.crc32(bytes))
        XCTAssertEqual(plain.checksumText, "crc32:" + Checksum.hex(Checksum.crc32(bytes)))
        // Gzipping the same files changes nothing the checksum sees.
        let gzDir = try temporaryDirectory(self)
        try writeMNIST(in: gzDir, gzip: true)
        XCTAssertEqual(try Dataset.load(.mnist(path: gzDir), cache: DatasetCache()).checksum, plain.checksum)
    }

    func testMissingFilesGiveHints() throws {
        let dir = try temporaryDirectory(self)
        assertDataError("mnist: no train-images-idx3-ubyte[.gz] in \(dir); download MNIST's four idx files there or pass path=DIR") {
            try Dataset.load(.mnist(path: dir), cache: DatasetCache())
        }
        assertDataError("fashion: no train-images-idx3-ubyte[.gz] in \(dir)/absent; install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or pass path=DIR") {
            try Dataset.load(.fashion(path: dir + "/absent"), cache: DatasetCache())
        }
        assertDataError("mnist: no path=DIR given and $PRN_DATA is not set; download MNIST's four idx files into a folder and pass path=DIR") {
            try Dataset.load(.mnist(), environment: [:], cache: DatasetCache())
        }
        try writeMNIST(in: dir)
        try FileManager.default.removeItem(atPath: dir + "/t10k-labels-idx1-ubyte")
        assertDataError(containing: ["mnist: no t10k-labels-idx1-ubyte[.gz] in \(dir)"]) {
            try Dataset.load(.mnist(path: dir), cache: DatasetCache())
        }
    }

    func testPRNDataIsTheDefaultFolder() throws {
        let dir = try temporaryDirectory(self)
        try writeMNIST(in: dir)
        let data = try Dataset.load(.mnist(), environment: ["PRN_DATA": dir], cache: DatasetCache())
        XCTAssertEqual(data.train.count, 12)
        XCTAssertEqual(data.source, .mnist(path: URL(fileURLWithPath: dir).standardizedFileURL.path))
    }

    func testCountMismatch() throws {
        let dir = try temporaryDirectory(self)
        try writeMNIST(in: dir, train: 12)
        try write(idxBytes(dims: [11], data: [UInt8](repeating: 1, count: 11)), to: dir + "/train-labels-idx1-ubyte")
        assertDataError("train-labels-idx1-ubyte: 11 labels for 12 images in train-images-idx3-ubyte") {
            try Dataset.load(.mnist(path: dir), cache: DatasetCache())
        }
    }

    func testLabelOutOfRange() throws {
        let dir = try temporaryDirectory(self)
        try writeMNIST(in: dir, test: 5)
        try writeGzip(idxBytes(dims: [5], data: [1, 2, 3, 12, 4]), to: dir + "/t10k-labels-idx1-ubyte.gz")
        try FileManager.default.removeItem(atPath: dir + "/t10k-labels-idx1-ubyte")
        assertDataError("t10k-labels-idx1-ubyte.gz: label 12 at index 3 is not below 10 classes") {
            try Dataset.load(.mnist(path: dir), cache: DatasetCache())
        }
    }

    func testWrongRanksAndMismatchedImageSizes() throws {
        let dir = try temporaryDirectory(self)
        try writeMNIST(in: dir, train: 12, test: 5, rows: 4, cols: 3)
        try write(idxBytes(dims: [5, 12], data: pattern(60)), to: dir + "/t10k-images-idx3-ubyte")
        assertDataError("t10k-images-idx3-ubyte: expected 3 dimensions (images×rows×columns), header has 2") {
            try Dataset.load(.mnist(path: dir), cache: DatasetCache())
        }
        try write(idxBytes(dims: [5, 3, 4], data: pattern(60)), to: dir + "/t10k-images-idx3-ubyte")
        assertDataError("t10k-images-idx3-ubyte: images are 3×4, training images are 4×3") {
            try Dataset.load(.mnist(path: dir), cache: DatasetCache())
        }
        try write(idxBytes(dims: [0, 4, 3], data: []), to: dir + "/train-images-idx3-ubyte")
        assertDataError("train-images-idx3-ubyte: no images: header says 0×4×3") {
            try Dataset.load(.mnist(path: dir), cache: DatasetCache())
        }
    }

    func testErrorOfTheFirstBadFileIsReported() throws {
        // Both training files are bad; files are read concurrently, but the message is the first file's.
        let dir = try temporaryDirectory(self)
        try writeMNIST(in: dir)
        try write([1, 2, 3, 4], to: dir + "/train-images-idx3-ubyte")
        try write([9, 9, 9, 9], to: dir + "/train-labels-idx1-ubyte")
        for _ in 0..<5 {
            assertDataError(containing: ["train-images-idx3-ubyte: bad magic number 0x01020304"]) {
                try Dataset.load(.mnist(path: dir), cache: DatasetCache())
            }
        }
    }
}
