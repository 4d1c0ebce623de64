import CZlib

/// CRC-32 (zlib's `crc32`) of data set bytes, recorded with every `Dataset` for provenance: two
/// runs that report the same checksum read the same bytes.
public enum Checksum {
    /// CRC-32 of `bytes`, continuing from `crc` (0 to start).
    public static func crc32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var value = UInt(crc)
        guard var p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return crc }
        var left = bytes.count
        // zlib takes a 32-bit length: feed large buffers in pieces.
        while left > 0 {
            let n = min(left, 1 << 30)
            value = CZlib.crc32(value, p, UInt32(n))
            p += n
            left -= n
        }
        return UInt32(truncatingIfNeeded: value)
    }

    /// CRC-32 of `bytes`.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { crc32($0) }
    }

    /// The CRC-32 of `a` followed by `b`, from the two CRCs and `b`'s length: lets files be
    /// checksummed in parallel and combined in a fixed order.
    public static func combine(_ a: UInt32, _ b: UInt32, lengthOfB: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32_combine(UInt(a), UInt(b), .init(lengthOfB)))
    }

    /// Eight lowercase hex digits, the form shown to users.
    public static func hex(_ crc: UInt32) -> String {
        let digits = String(crc, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
