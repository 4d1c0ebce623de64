/// A problem with a data file or a data request, reported to the user as one line.
///
/// The message names the file (its last path component, or the full path when the file is
/// missing) and what is wrong, e.g.
/// `train-images-idx3-ubyte.gz: truncated: header says 60000×28×28 = 47040000 bytes, file has 1200`.
/// Readers throw this for every malformed input; they never trap on file content.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The whole one-line message.
    public let description: String

    /// A message that is already complete (it names its subject itself).
    public init(_ message: String) {
        description = message
    }

    /// A message about the file at `path`, prefixed with the file's name.
    public init(file path: String, _ message: String) {
        description = "\(DataError.fileName(path)): \(message)"
    }

    /// The last path component, which is what users recognize in a message.
    static func fileName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
