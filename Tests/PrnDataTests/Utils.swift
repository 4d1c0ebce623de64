import CZlib
import Foundation
import XCTest
@testable import PrnData

/// A fresh temporary directory, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "prn-data-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Writes `bytes` gzipped with zlib's own gzip writer, independent of prn's reader.
func writeGzip(_ bytes: [UInt8], to path: String) throws {
    guard let file = gzopen(path, "wb") else { throw DataError("gzopen failed for \(path)") }
    let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
    gzclose(file)
    guard written == Int32(bytes.count) else { throw DataError("gzwrite wrote \(written) of \(bytes.count)") }
}

/// An idx file of unsigned bytes, built by hand (not with `IDX.encode`) so the reader is checked
/// against the format, not against itself.
func idxBytes(dims: [Int], data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0, 0, 8, UInt8(dims.count)]
    for d in dims { out += withUnsafeBytes(of: UInt32(d).bigEndian, Array.init) }
    return out + data
}

/// Asserts that `body` throws a `DataError` whose message is exactly `message`.
func assertDataError<T>(_ message: String, file: StaticString = #filePath, line: UInt = #line,
                        _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected DataError: \(message)", file: file, line: line)
    } catch let error as DataError {
        XCTAssertEqual(error.description, message, file: file, line: line)
    } catch {
        XCTFail("expected DataError, got \(error)", file: file, line: line)
    }
}

/// Asserts that `body` throws a `DataError` whose message contains each of `parts`.
func assertDataError<T>(containing parts: [String], file: StaticString = #filePath, line: UInt = #line,
                        _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected DataError containing \(parts)", file: file, line: line)
    } catch let error as DataError {
        for part in parts {
            XCTAssertTrue(error.description.contains(part), "\(error.description) lacks \(part)", file: file, line: line)
        }
        XCTAssertFalse(error.description.contains("\n"), "message is not one line", file: file, line: line)
    } catch {
        XCTFail("expected DataError, got \(error)", file: file, line: line)
    }
}

/// Deterministic test bytes.
func pattern(_ count: Int, salt: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ salt &* 11 &+ ($0 >> 3)) }
}

/// A small MNIST-format directory: `train` and `test` examples of `rows × cols`; labels `i % 10`.
/// Returns the raw image bytes of each split.
@discardableResult
func writeMNIST(in dir: String, train: Int = 12, test: Int = 5, rows: Int = 4, cols: Int = 3,
                gzip: Bool = false) throws -> (train: [UInt8], test: [UInt8]) {
    let trainImages = pattern(train * rows * cols, salt: 1), testImages = pattern(test * rows * cols, salt: 2)
    let files: [(String, [UInt8])] = [
        ("train-images-idx3-ubyte", idxBytes(dims: [train, rows, cols], data: trainImages)),
        ("train-labels-idx1-ubyte", idxBytes(dims: [train], data: (0..<train).map { UInt8($0 % 10) })),
        ("t10k-images-idx3-ubyte", idxBytes(dims: [test, rows, cols], data: testImages)),
        ("t10k-labels-idx1-ubyte", idxBytes(dims: [test], data: (0..<test).map { UInt8(($0 * 3) % 10) })),
    ]
    for (name, bytes) in files {
        if gzip { try writeGzip(bytes, to: dir + "/" + name + ".gz") } else { try write(bytes, to: dir + "/" + name) }
    }
    return (trainImages, testImages)
}

/// CIFAR records: label `(r + salt) % 10`, image bytes from `pattern`.
func cifarBytes(records: Int, salt: Int) -> [UInt8] {
    var out: [UInt8] = []
    for r in 0..<records {
        out.append(UInt8((r + salt) % 10))
        out += pattern(3072, salt: salt * 100 + r)
    }
    return out
}

/// A CIFAR-10 directory of six batch files with `records` records each.
func writeCIFAR(in dir: String, records: Int = 2, gzip: Bool = false) throws {
    for (i, name) in CIFAR.fileNames.enumerated() {
        let bytes = cifarBytes(records: records, salt: i)
        if gzip { try writeGzip(bytes, to: dir + "/" + name + ".gz") } else { try write(bytes, to: dir + "/" + name) }
    }
}
