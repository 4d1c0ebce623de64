import Foundation
import PrnKernel

/// Reads a whole data file into memory, inflating it when it is gzipped.
///
/// Gzip is detected from the content (magic bytes 1f 8b), not from the name, so `foo.gz` holding raw
/// bytes and `foo` holding a gzip stream both read correctly.
enum FileBytes {
    /// The file's bytes, inflated when gzipped.
    static func read(_ path: String) throws -> [UInt8] {
        let bytes = try readRaw(path)
        return Gzip.isGzip(bytes) ? try Gzip.inflate(bytes, file: path) : bytes
    }

    /// Whether a regular file (or a link to one) exists at `path`.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// The file's bytes as stored on disk.
    static func readRaw(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw DataError("\(path): no such file") }
            throw DataError("\(path): cannot open: \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw DataError("\(path): cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw DataError(file: path, "not a regular file")
        }
        let size = Int(info.st_size)
        // Each byte becomes at least one Float, so a file larger than the tensor cap cannot be loaded.
        guard size <= Tensor.maxElements else {
            throw DataError(file: path, "file is \(size) bytes, more than prn can load (\(Tensor.maxElements))")
        }
        var failure: Int32 = 0
        var got = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            while got < size {
                let n = Foundation.read(fd, buffer.baseAddress! + got, size - got)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if n == 0 { break }   // the file shrank while we read it
                got += n
            }
            initialized = got
        }
        if failure != 0 {
            throw DataError("\(path): cannot read: \(String(cString: strerror(failure)))")
        }
        guard got == size else {
            throw DataError(file: path, "file changed while reading: expected \(size) bytes, read \(got)")
        }
        return bytes
    }
}
