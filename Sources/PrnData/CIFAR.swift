import PrnKernel

/// CIFAR-10's binary version: `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`, each a
/// sequence of 3073-byte records (one label byte, then a 32×32 image as 1024 red, 1024 green and
/// 1024 blue bytes, i.e. CHW). Files may be gzipped, and may sit in the archive's
/// `cifar-10-batches-bin/` folder.
public enum CIFAR {
    /// Image shape `[3, 32, 32]`.
    public static let channels = 3, height = 32, width = 32
    /// Pixel bytes per image.
    public static let imageSize = channels * height * width
    /// Bytes per record: the label byte and the image.
    public static let recordSize = 1 + imageSize
    public static let classes = 10
    /// Class names in label order.
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer",
                                    "dog", "frog", "horse", "ship", "truck"]
    /// The training batches, then the test batch: the checksum order.
    public static let fileNames = (1...5).map { "data_batch_\($0).bin" } + ["test_batch.bin"]
    /// The folder the official archive unpacks to.
    public static let folder = "cifar-10-batches-bin"

    /// The number of records in a batch file's bytes, after checking its size and labels.
    public static func validate(_ bytes: [UInt8], file: String) throws -> Int {
        guard !bytes.isEmpty else { throw DataError(file: file, "empty file: no \(recordSize)-byte records") }
        let (records, rest) = bytes.count.quotientAndRemainder(dividingBy: recordSize)
        guard rest == 0 else {
            throw DataError(file: file, "truncated: \(bytes.count) bytes is not a whole number of \(recordSize)-byte records (\(records) records and \(rest) bytes)")
        }
        for r in 0..<records where Int(bytes[r * recordSize]) >= classes {
            throw DataError(file: file, "record \(r): label \(bytes[r * recordSize]) is not below \(classes) classes")
        }
        return records
    }

    /// Reads one batch file (gzipped or raw) as a normalized split `[N, 3, 32, 32]`.
    public static func read(_ path: String) throws -> DataSplit {
        let bytes = try FileBytes.read(path)
        let records = try validate(bytes, file: path)
        return split([bytes], records: [records])
    }

    /// The CIFAR-10 data set in `directory` or `directory/cifar-10-batches-bin`.
    static func load(source: DataSource, directory: String) throws -> Dataset {
        let root = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let candidates = [root, root + "/" + folder]
        guard let home = candidates.first(where: { IDXDataset.locate(fileNames[0], in: $0) != nil }) else {
            throw DataError("cifar10: no \(fileNames[0])[.gz] in \(root) (nor in its \(folder)/); download CIFAR-10's binary version (cifar-10-binary.tar.gz), unpack it there, or pass path=DIR")
        }
        var paths: [String] = []
        for name in fileNames {
            guard let path = IDXDataset.locate(name, in: home) else {
                throw DataError("cifar10: no \(name)[.gz] in \(home); the download looks incomplete, unpack cifar-10-binary.tar.gz again")
            }
            paths.append(path)
        }
        let files = try Parallel.map(paths.count) { i -> (bytes: [UInt8], records: Int, crc: UInt32) in
            let bytes = try FileBytes.read(paths[i])
            let records = try validate(bytes, file: paths[i])
            return (bytes, records, Checksum.crc32(bytes))
        }
        var checksum = files[0].crc
        for file in files.dropFirst() {
            checksum = Checksum.combine(checksum, file.crc, lengthOfB: file.bytes.count)
        }
        let trainFiles = files.dropLast()
        let train = split(trainFiles.map(\.bytes), records: trainFiles.map(\.records))
        let test = split([files[files.count - 1].bytes], records: [files[files.count - 1].records])
        return Dataset(name: "cifar10", source: source, files: paths, train: train, validation: nil, test: test,
                       classes: classes, classNames: classNames, normalization: .cifar10, checksum: checksum,
                       augmentation: .cifar)
    }

    /// The records of several validated files, in order, as one normalized split.
    static func split(_ files: [[UInt8]], records: [Int]) -> DataSplit {
        let total = records.reduce(0, +)
        var labels: [Int] = []
        labels.reserveCapacity(total)
        for (bytes, count) in zip(files, records) {
            for r in 0..<count { labels.append(Int(bytes[r * recordSize])) }
        }
        let images = Tensor.build([total, channels, height, width]) { out in
            var first = 0
            for (bytes, count) in zip(files, records) {
                bytes.withUnsafeBufferPointer { src in
                    // Skip each record's label byte: images start one byte in, a record apart.
                    Normalization.cifar10.normalize(src.baseAddress! + 1, examples: count, stride: recordSize,
                                                    channels: channels, plane: height * width,
                                                    into: out.baseAddress! + first * imageSize)
                }
                first += count
            }
        }
        return DataSplit(images: images, labels: labels, normalization: .cifar10)
    }
}
