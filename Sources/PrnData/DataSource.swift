import Foundation

/// Where a data set comes from: the argument of the `data` command.
///
/// `fashion` reads Debian's `dataset-fashion-mnist` package by default; `mnist` and `cifar10` read
/// files the user has (no registry these machines reach ships them), from `path` or else
/// `$PRN_DATA`; `synthetic` needs no files.
public enum DataSource: Hashable, Sendable, CustomStringConvertible {
    /// Fashion-MNIST idx files; default folder `/usr/share/datasets/fashion-mnist`.
    case fashion(path: String? = nil)
    /// MNIST idx files (`train-images-idx3-ubyte[.gz]` …) in `path`, default `$PRN_DATA`.
    case mnist(path: String? = nil)
    /// CIFAR-10 binary batches (`data_batch_1.bin` … `test_batch.bin`) in `path` or its
    /// `cifar-10-batches-bin/` folder, default `$PRN_DATA`.
    case cifar10(path: String? = nil)
    /// Seeded Gaussian clusters.
    case synthetic(SyntheticSpec)

    /// Where Debian's `dataset-fashion-mnist` installs the four gzipped idx files.
    public static let fashionDirectory = "/usr/share/datasets/fashion-mnist"

    /// The name users type: `fashion`, `mnist`, `cifar10`, `synthetic`.
    public var name: String {
        switch self {
        case .fashion: return "fashion"
        case .mnist: return "mnist"
        case .cifar10: return "cifar10"
        case .synthetic: return "synthetic"
        }
    }

    /// The directory given, if any.
    public var path: String? {
        switch self {
        case .fashion(let path), .mnist(let path), .cifar10(let path): return path
        case .synthetic: return nil
        }
    }

    public var description: String {
        switch self {
        case .synthetic(let spec): return "synthetic \(spec)"
        default: return path.map { "\(name) path=\($0)" } ?? name
        }
    }

    /// The same source with its directory made explicit and absolute: the cache key, and what a
    /// `Dataset` records as its provenance.
    public func resolved(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DataSource {
        func directory(_ given: String?, fallback: String?, what: String) throws -> String {
            guard let dir = given ?? fallback.flatMap({ $0.isEmpty ? nil : $0 }) else {
                throw DataError("\(name): no path=DIR given and $PRN_DATA is not set; download \(what) into a folder and pass path=DIR")
            }
            let expanded = (dir as NSString).expandingTildeInPath
            return URL(fileURLWithPath: expanded).standardizedFileURL.path
        }
        switch self {
        case .fashion(let path):
            return .fashion(path: try directory(path, fallback: DataSource.fashionDirectory, what: ""))
        case .mnist(let path):
            return .mnist(path: try directory(path, fallback: environment["PRN_DATA"], what: "MNIST's four idx files"))
        case .cifar10(let path):
            return .cifar10(path: try directory(path, fallback: environment["PRN_DATA"], what: "CIFAR-10's binary version (cifar-10-binary.tar.gz, unpacked)"))
        case .synthetic:
            return self
        }
    }
}

extension Dataset {
    /// Loads a data set, or returns the cached one.
    ///
    /// The first call for a (source, directory, `validation`) reads and validates the files; later
    /// calls return the cached value, whose tensors are shared, not copied.
    ///
    /// - Parameters:
    ///   - source: what to load.
    ///   - validation: hold out the last `validation` training examples as a validation split.
    ///   - environment: where `$PRN_DATA` is looked up.
    ///   - cache: the cache to use; `.shared` is process-wide.
    /// - Throws: `DataError` with a one-line message naming the file and the problem, or a hint
    ///   when the files are absent.
    public static func load(_ source: DataSource, validation: Int = 0,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            cache: DatasetCache = .shared) throws -> Dataset {
        let resolved = try source.resolved(environment: environment)
        guard validation >= 0 else { throw DataError("\(source.name): val=\(validation) must be ≥ 0") }
        return try cache.dataset(resolved, validation: validation) {
            let full = try cache.dataset(resolved, validation: 0) { try read(resolved) }
            return try full.holdingOut(validation)
        }
    }

    /// Reads a resolved source from disk (or generates it), bypassing the cache.
    static func read(_ source: DataSource) throws -> Dataset {
        switch source {
        case .fashion(let path):
            return try IDXDataset.load(.fashion, source: source, directory: path ?? DataSource.fashionDirectory)
        case .mnist(let path):
            return try IDXDataset.load(.mnist, source: source, directory: path ?? "")
        case .cifar10(let path):
            return try CIFAR.load(source: source, directory: path ?? "")
        case .synthetic(let spec):
            return try Synthetic.make(spec)
        }
    }
}
