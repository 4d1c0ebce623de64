import CZlib
import PrnKernel

/// Gzip decompression with zlib's `inflate`.
///
/// Members written back to back (as `cat a.gz b.gz` makes) are inflated one after another, as
/// `gunzip` does. A stream that ends early, a corrupt stream and non-gzip bytes after the last
/// member are errors: data files are never partially loaded.
enum Gzip {
    /// Whether `bytes` start with the gzip magic number.
    static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The inflated content of the gzip stream `bytes`; `file` only names the file in errors.
    static func inflate(_ bytes: [UInt8], file: String) throws -> [UInt8] {
        let limit = Tensor.maxElements
        var out = [UInt8](repeating: 0, count: initialCapacity(bytes, limit: limit))
        var produced = 0

        var stream = z_stream()
        // 15 + 32: largest window, and let zlib detect the gzip header itself.
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError(file: file, "zlib could not start inflating (out of memory?)")
        }
        defer { inflateEnd(&stream) }

        try bytes.withUnsafeBufferPointer { input in
            guard let base = input.baseAddress else { return }
            var consumed = 0
            while true {
                // avail_in and avail_out are 32-bit: feed at most 1 GiB at a time.
                let inChunk = min(input.count - consumed, 1 << 30)
                if produced == out.count {
                    guard out.count < limit else {
                        throw DataError(file: file, "inflates to more than \(limit) bytes, more than prn can load")
                    }
                    let grown = min(limit, max(out.count * 2, 1 << 16))
                    out.append(contentsOf: repeatElement(0, count: grown - out.count))
                }
                let outChunk = min(out.count - produced, 1 << 30)
                let (rc, usedIn, madeOut) = out.withUnsafeMutableBufferPointer { output -> (Int32, Int, Int) in
                    stream.next_in = UnsafeMutablePointer(mutating: base + consumed)
                    stream.avail_in = UInt32(inChunk)
                    stream.next_out = output.baseAddress! + produced
                    stream.avail_out = UInt32(outChunk)
                    let rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return (rc, inChunk - Int(stream.avail_in), outChunk - Int(stream.avail_out))
                }
                consumed += usedIn
                produced += madeOut
                switch rc {
                case Z_STREAM_END:
                    let rest = input[consumed...]
                    if rest.isEmpty || rest.allSatisfy({ $0 == 0 }) {
                        // Trailing zeros are block padding some tools add; gunzip ignores them too.
                        return
                    }
                    guard rest.count >= 2, rest[consumed] == 0x1F, rest[consumed + 1] == 0x8B else {
                        throw DataError(file: file, "\(rest.count) bytes of garbage after the gzip stream")
                    }
                    inflateReset(&stream)
                case Z_OK:
                    continue
                case Z_BUF_ERROR:
                    // No progress was possible: either the output is full (grow it and go on) or
                    // the input ran out before the stream's end.
                    if produced == out.count { continue }
                    if consumed == input.count {
                        throw DataError(file: file, "truncated gzip stream (ends after \(input.count) compressed bytes, \(produced) inflated)")
                    }
                    throw DataError(file: file, "corrupt gzip stream")
                case Z_DATA_ERROR, Z_NEED_DICT:
                    let reason = stream.msg.map { String(cString: $0) } ?? "invalid data"
                    throw DataError(file: file, "corrupt gzip stream: \(reason)")
                case Z_MEM_ERROR:
                    throw DataError(file: file, "out of memory while inflating")
                default:
                    throw DataError(file: file, "zlib error \(rc) while inflating")
                }
            }
        }
        out.removeSubrange(produced...)
        return out
    }

    /// The size to allocate first: the trailer's ISIZE (the inflated size mod 2^32) when it is
    /// plausible, so a normal file inflates without regrowing. The trailer may lie (corruption,
    /// several members, > 4 GiB), so it is only a hint, bounded by deflate's ratio of at most ~1032.
    private static func initialCapacity(_ bytes: [UInt8], limit: Int) -> Int {
        let fallback = min(limit, max(bytes.count * 4, 1 << 16))
        guard bytes.count >= 18 else { return fallback }
        let n = bytes.count
        let isize = Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16 | Int(bytes[n - 1]) << 24
        guard isize > 0, isize <= bytes.count * 1032 else { return fallback }
        // One spare byte lets zlib report the stream end without a regrow.
        return min(limit, isize + 1)
    }
}
