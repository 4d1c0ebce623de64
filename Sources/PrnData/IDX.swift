/// An array read from an idx file, the format of MNIST and Fashion-MNIST.
///
/// The layout is a 4-byte magic number (`00 00`, the element type, the rank), one big-endian
/// 32-bit size per dimension, then the elements in row-major order. prn reads the unsigned-byte
/// type (0x08), which is what image and label files use.
public struct IDXArray: Sendable {
    /// The sizes in the header, outermost first (e.g. `[60000, 28, 28]`).
    public let dims: [Int]
    /// The whole (inflated) file; the elements start at `dataOffset`.
    let storage: [UInt8]
    let dataOffset: Int

    /// The number of elements: the product of `dims`.
    public var count: Int { storage.count - dataOffset }

    /// The elements in row-major order.
    public var data: ArraySlice<UInt8> { storage[dataOffset...] }

    /// Calls `body` with the elements, without copying them.
    func withData<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[dataOffset...]))
        }
    }

    /// CRC-32 of the whole inflated file, header included.
    var crc: UInt32 { Checksum.crc32(storage) }
    /// The inflated file size.
    var byteCount: Int { storage.count }
}

/// Reads and validates idx files.
public enum IDX {
    /// The element type code for unsigned bytes.
    static let unsignedByte: UInt8 = 0x08

    /// Reads the idx file at `path` (gzipped or raw) and checks that its header matches its size.
    public static func read(_ path: String) throws -> IDXArray {
        try parse(FileBytes.read(path), file: path)
    }

    /// Parses an idx file already in memory; `file` names it in errors.
    public static func parse(_ bytes: [UInt8], file: String) throws -> IDXArray {
        guard bytes.count >= 4 else {
            throw DataError(file: file, "truncated header: \(bytes.count) bytes, an idx file starts with a 4-byte magic number")
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            let magic = (0..<4).map { hexByte(bytes[$0]) }.joined()
            throw DataError(file: file, "bad magic number 0x\(magic): not an idx file (expected 00 00 08 <rank>)")
        }
        guard bytes[2] == unsignedByte else {
            throw DataError(file: file, "unsupported element type 0x\(hexByte(bytes[2])): prn reads only 0x08 (unsigned bytes)")
        }
        let rank = Int(bytes[3])
        guard rank > 0 else { throw DataError(file: file, "bad header: rank 0 (no dimensions)") }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw DataError(file: file, "truncated header: rank \(rank) needs \(headerSize) header bytes, file has \(bytes.count)")
        }
        var dims: [Int] = []
        dims.reserveCapacity(rank)
        for axis in 0..<rank {
            let at = 4 + 4 * axis
            dims.append(Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]))
        }
        let shown = dims.map(String.init).joined(separator: "×")
        var expected = 1
        for dim in dims {
            let (product, overflow) = expected.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw DataError(file: file, "bad header: dims \(shown) overflow") }
            expected = product
        }
        let have = bytes.count - headerSize
        if have < expected {
            throw DataError(file: file, "truncated: header says \(shown) = \(expected) bytes, file has \(have)")
        }
        if have > expected {
            throw DataError(file: file, "size mismatch: header says \(shown) = \(expected) bytes, file has \(have) (\(have - expected) extra)")
        }
        return IDXArray(dims: dims, storage: bytes, dataOffset: headerSize)
    }

    /// The bytes of an idx file of unsigned bytes: the writer's side of `parse`, used to export
    /// data and by tests.
    public static func encode(dims: [Int], data: [UInt8]) -> [UInt8] {
        precondition(dims.count > 0 && dims.count < 256, "idx rank must be 1...255")
        precondition(dims.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) }, "idx dims must fit 32 bits")
        var out: [UInt8] = [0, 0, unsignedByte, UInt8(dims.count)]
        for dim in dims {
            out += [UInt8(dim >> 24 & 0xFF), UInt8(dim >> 16 & 0xFF), UInt8(dim >> 8 & 0xFF), UInt8(dim & 0xFF)]
        }
        return out + data
    }

    static func hexByte(_ b: UInt8) -> String {
        b < 16 ? "0" + String(b, radix: 16) : String(b, radix: 16)
    }
}
