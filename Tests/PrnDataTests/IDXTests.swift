import XCTest
@testable import PrnData

final class IDXTests: XCTestCase {
    func testRawRoundTrip() throws {
        let dir = try temporaryDirectory(self)
        let data = pattern(3 * 4 * 5)
        try write(idxBytes(dims: [3, 4, 5], data: data), to: dir + "/a.idx")
        let array = try IDX.read(dir + "/a.idx")
        XCTAssertEqual(array.dims, [3, 4, 5])
        XCTAssertEqual(Array(array.data), data)
    }

    func testGzipRoundTripWhateverTheName() throws {
        let dir = try temporaryDirectory(self)
        let data = pattern(1000 * 7)
        try writeGzip(idxBytes(dims: [1000, 7], data: data), to: dir + "/b.gz")
        try writeGzip(idxBytes(dims: [1000, 7], data: data), to: dir + "/b-no-suffix")
        for name in ["b.gz", "b-no-suffix"] {
            let array = try IDX.read(dir + "/" + name)
            XCTAssertEqual(array.dims, [1000, 7])
            XCTAssertEqual(Array(array.data), data)
        }
    }

    func testEncodeMatchesFormat() {
        XCTAssertEqual(IDX.encode(dims: [2, 258], data: []), [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 1, 2])
    }

    func testConcatenatedGzipMembers() throws {
        let dir = try temporaryDirectory(self)
        let whole = idxBytes(dims: [10, 10], data: pattern(100))
        try writeGzip(Array(whole[..<40]), to: dir + "/p1")
        try writeGzip(Array(whole[40...]), to: dir + "/p2")
        let joined = try Data(contentsOf: URL(fileURLWithPath: dir + "/p1")) + Data(contentsOf: URL(fileURLWithPath: dir + "/p2"))
        try joined.write(to: URL(fileURLWithPath: dir + "/c.gz"))
        XCTAssertEqual(Array(try IDX.read(dir + "/c.gz").data), pattern(100))
    }

    func testTruncatedData() throws {
        let dir = try temporaryDirectory(self)
        try write(idxBytes(dims: [3, 2, 2], data: pattern(5)), to: dir + "/train-images-idx3-ubyte")
        assertDataError("train-images-idx3-ubyte: truncated: header says 3×2×2 = 12 bytes, file has 5") {
            try IDX.read(dir + "/train-images-idx3-ubyte")
        }
    }

    func testTruncatedDataInsideGzip() throws {
        let dir = try temporaryDirectory(self)
        try writeGzip(idxBytes(dims: [60000, 28, 28], data: pattern(1200)), to: dir + "/train-images-idx3-ubyte.gz")
        assertDataError("train-images-idx3-ubyte.gz: truncated: header says 60000×28×28 = 47040000 bytes, file has 1200") {
            try IDX.read(dir + "/train-images-idx3-ubyte.gz")
        }
    }

    func testExtraBytes() throws {
        let dir = try temporaryDirectory(self)
        try write(idxBytes(dims: [4], data: pattern(6)), to: dir + "/l")
        assertDataError("l: size mismatch: header says 4 = 4 bytes, file has 6 (2 extra)") { try IDX.read(dir + "/l") }
    }

    func testTruncatedHeader() throws {
        let dir = try temporaryDirectory(self)
        try write([0, 0], to: dir + "/h1")
        assertDataError("h1: truncated header: 2 bytes, an idx file starts with a 4-byte magic number") { try IDX.read(dir + "/h1") }
        try write([0, 0, 8, 3, 0, 0, 0, 1, 0, 0], to: dir + "/h2")
        assertDataError("h2: truncated header: rank 3 needs 16 header bytes, file has 10") { try IDX.read(dir + "/h2") }
        try write([], to: dir + "/empty")
        assertDataError("empty: truncated header: 0 bytes, an idx file starts with a 4-byte magic number") { try IDX.read(dir + "/empty") }
    }

    func testBadMagicAndType() throws {
        let dir = try temporaryDirectory(self)
        try write(Array("PK\u{3}\u{4}zip".utf8), to: dir + "/m")
        assertDataError("m: bad magic number 0x504b0304: not an idx file (expected 00 00 08 <rank>)") { try IDX.read(dir + "/m") }
        try write([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0], to: dir + "/f")
        assertDataError("f: unsupported element type 0x0d: prn reads only 0x08 (unsigned bytes)") { try IDX.read(dir + "/f") }
        try write([0, 0, 8, 0], to: dir + "/r")
        assertDataError("r: bad header: rank 0 (no dimensions)") { try IDX.read(dir + "/r") }
    }

    func testDimsOverflow() throws {
        let dir = try temporaryDirectory(self)
        let huge = Int(UInt32.max)
        try write(idxBytes(dims: [huge, huge, huge], data: []), to: dir + "/o")
        assertDataError("o: bad header: dims 4294967295×4294967295×4294967295 overflow") { try IDX.read(dir + "/o") }
    }

    func testTruncatedAndCorruptGzip() throws {
        let dir = try temporaryDirectory(self)
        try writeGzip(idxBytes(dims: [5000], data: pattern(5000)), to: dir + "/full.gz")
        let gz = try Array(Data(contentsOf: URL(fileURLWithPath: dir + "/full.gz")))
        try write(Array(gz[..<(gz.count / 2)]), to: dir + "/half.gz")
        assertDataError(containing: ["half.gz: truncated gzip stream"]) { try IDX.read(dir + "/half.gz") }
        // Only the 8-byte trailer (CRC and size) missing: the deflate data is complete.
        try write(Array(gz[..<(gz.count - 8)]), to: dir + "/notrailer.gz")
        assertDataError(containing: ["notrailer.gz: truncated gzip stream"]) { try IDX.read(dir + "/notrailer.gz") }
        var corrupt = gz
        corrupt[gz.count - 6] ^= 0xFF   // the CRC in the trailer
        try write(corrupt, to: dir + "/crc.gz")
        assertDataError(containing: ["crc.gz: corrupt gzip stream"]) { try IDX.read(dir + "/crc.gz") }
        try write([0x1F, 0x8B], to: dir + "/magic-only.gz")
        assertDataError(containing: ["magic-only.gz: truncated gzip stream"]) { try IDX.read(dir + "/magic-only.gz") }
        try write(gz + [1, 2, 3], to: dir + "/garbage.gz")
        assertDataError("garbage.gz: 3 bytes of garbage after the gzip stream") { try IDX.read(dir + "/garbage.gz") }
    }

    func testMissingFileAndDirectory() throws {
        let dir = try temporaryDirectory(self)
        assertDataError("\(dir)/nope: no such file") { try IDX.read(dir + "/nope") }
        assertDataError(containing: ["not a regular file"]) { try IDX.read(dir) }
    }
}
