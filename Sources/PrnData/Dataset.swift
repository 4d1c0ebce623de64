import PrnKernel

/// A loaded data set: normalized train / validation / test splits and their provenance.
///
/// Get one with `Dataset.load(_:validation:)`, which caches it process-wide; copies of the value
/// share the tensors. Images are Float32 `[N, C, H, W]` (synthetic data may be flat, `[N, D]`),
/// pixels scaled to [0, 1] and then normalized with `normalization`.
public struct Dataset: Sendable, CustomStringConvertible {
    /// The source's name: `fashion`, `mnist`, `cifar10` or `synthetic`.
    public let name: String
    /// What was asked for, with the directory resolved.
    public let source: DataSource
    /// The files read, in checksum order (empty for synthetic data).
    public let files: [String]
    /// Training examples (without the validation hold-out).
    public let train: DataSplit
    /// The last `val` training examples, when `val > 0` was asked for.
    public let validation: DataSplit?
    /// Test examples.
    public let test: DataSplit
    /// Number of classes; labels are in `0..<classes`.
    public let classes: Int
    /// A name per class (`T-shirt/top`, `airplane`, … or the digit).
    public let classNames: [String]
    /// The normalization applied to every split.
    public let normalization: Normalization
    /// CRC-32 of the raw (inflated) file bytes in `files` order, or of the generated data.
    public let checksum: UInt32
    /// The augmentation the papers use for this data set's training batches (CIFAR-10: crop and
    /// flip), or nil. The training loop passes it to `batches(...)` for the training split only.
    public let augmentation: Augmentation?

    /// A data set from its parts; loaders and tests build these, users call `load`.
    public init(name: String, source: DataSource, files: [String], train: DataSplit, validation: DataSplit?,
                test: DataSplit, classes: Int, classNames: [String], normalization: Normalization,
                checksum: UInt32, augmentation: Augmentation?) {
        self.name = name
        self.source = source
        self.files = files
        self.train = train
        self.validation = validation
        self.test = test
        self.classes = classes
        self.classNames = classNames
        self.normalization = normalization
        self.checksum = checksum
        self.augmentation = augmentation
    }

    /// The shape of one example, e.g. `[1, 28, 28]`.
    public var inputShape: [Int] { train.exampleShape }

    /// The split of the given kind (validation is nil when none was held out).
    public func split(_ kind: SplitKind) -> DataSplit? {
        switch kind {
        case .train: return train
        case .validation: return validation
        case .test: return test
        }
    }

    /// The checksum as users see it: `crc32:` and eight hex digits.
    public var checksumText: String { "crc32:" + Checksum.hex(checksum) }

    /// One line, e.g. `fashion: 60000 train, 10000 test, 10 classes, [1, 28, 28], mean 0.286 std 0.353, crc32:…`.
    public var description: String {
        var parts = ["\(train.count) train"]
        if let validation { parts.append("\(validation.count) val") }
        parts.append("\(test.count) test")
        parts.append("\(classes) classes")
        parts.append("\(inputShape)")
        parts.append("normalized \(normalization)")
        if let augmentation { parts.append("augment \(augmentation)") }
        parts.append(checksumText)
        return "\(name): " + parts.joined(separator: ", ")
    }

    /// The same data with the last `n` training examples moved to a validation split.
    ///
    /// `n == 0` returns the data set unchanged. Holding out from a data set that already has a
    /// validation split is refused, so `val=` always counts from the full training set.
    public func holdingOut(_ n: Int) throws -> Dataset {
        if n == 0 { return self }
        guard validation == nil else { throw DataError("\(name): a validation split is already held out") }
        guard n > 0 else { throw DataError("\(name): val=\(n) must be ≥ 0") }
        guard n < train.count else {
            throw DataError("\(name): val=\(n) leaves no training examples (the training split has \(train.count))")
        }
        let cut = train.count - n
        return Dataset(name: name, source: source, files: files, train: train.slice(0..<cut),
                       validation: train.slice(cut..<train.count), test: test, classes: classes,
                       classNames: classNames, normalization: normalization, checksum: checksum,
                       augmentation: augmentation)
    }
}

/// Which split of a data set.
public enum SplitKind: String, Sendable, CaseIterable {
    case train, validation, test
}
