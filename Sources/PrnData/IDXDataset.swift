import PrnKernel

/// MNIST and Fashion-MNIST: four idx files (train / t10k × images / labels), gzipped or raw.
enum IDXDataset {
    /// What differs between the two data sets that share the format.
    struct Kind {
        let name: String
        let normalization: Normalization
        let classNames: [String]
        /// What to do when the files are absent.
        let hint: String

        static let fashion = Kind(
            name: "fashion", normalization: .fashionMNIST,
            classNames: ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
            hint: "install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or pass path=DIR")
        static let mnist = Kind(
            name: "mnist", normalization: .mnist, classNames: (0..<10).map(String.init),
            hint: "download MNIST's four idx files there or pass path=DIR")
    }

    static let classes = 10
    /// The standard file names, in the order they are checksummed.
    static let fileNames = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]

    /// Reads, validates and normalizes the four files in `directory`.
    static func load(_ kind: Kind, source: DataSource, directory: String) throws -> Dataset {
        var paths: [String] = []
        for name in fileNames {
            guard let path = locate(name, in: directory) else {
                throw DataError("\(kind.name): no \(name)[.gz] in \(directory); \(kind.hint)")
            }
            paths.append(path)
        }
        // Inflate the four files concurrently; the training images dominate the time.
        let arrays = try Parallel.map(paths.count) { try IDX.read(paths[$0]) }
        let crcs = Parallel.map(arrays.count) { arrays[$0].crc }
        var checksum = crcs[0]
        for i in 1..<crcs.count {
            checksum = Checksum.combine(checksum, crcs[i], lengthOfB: arrays[i].byteCount)
        }

        let train = try split(images: arrays[0], labels: arrays[1], imagesPath: paths[0], labelsPath: paths[1], kind: kind)
        let test = try split(images: arrays[2], labels: arrays[3], imagesPath: paths[2], labelsPath: paths[3], kind: kind)
        guard test.exampleShape == train.exampleShape else {
            throw DataError(file: paths[2], "images are \(shapeText(test.exampleShape.dropFirst())), training images are \(shapeText(train.exampleShape.dropFirst()))")
        }
        return Dataset(name: kind.name, source: source, files: paths, train: train, validation: nil, test: test,
                       classes: classes, classNames: kind.classNames, normalization: kind.normalization,
                       checksum: checksum, augmentation: nil)
    }

    /// `directory/name`, else `directory/name.gz`, whichever exists.
    static func locate(_ name: String, in directory: String) -> String? {
        let base = directory.hasSuffix("/") ? directory + name : directory + "/" + name
        return [base, base + ".gz"].first(where: FileBytes.exists)
    }

    /// One split from an images file `[N, H, W]` and a labels file `[N]`.
    static func split(images: IDXArray, labels: IDXArray, imagesPath: String, labelsPath: String,
                      kind: Kind) throws -> DataSplit {
        guard images.dims.count == 3 else {
            throw DataError(file: imagesPath, "expected 3 dimensions (images×rows×columns), header has \(images.dims.count)")
        }
        guard labels.dims.count == 1 else {
            throw DataError(file: labelsPath, "expected 1 dimension (labels), header has \(labels.dims.count)")
        }
        let (n, height, width) = (images.dims[0], images.dims[1], images.dims[2])
        guard n > 0, height > 0, width > 0 else {
            throw DataError(file: imagesPath, "no images: header says \(shapeText(images.dims))")
        }
        guard labels.dims[0] == n else {
            throw DataError(file: labelsPath, "\(labels.dims[0]) labels for \(n) images in \(DataError.fileName(imagesPath))")
        }
        let labelValues = try labels.withData { bytes -> [Int] in
            if let bad = bytes.firstIndex(where: { Int($0) >= classes }) {
                throw DataError(file: labelsPath, "label \(bytes[bad]) at index \(bad) is not below \(classes) classes")
            }
            return bytes.map(Int.init)
        }
        let plane = height * width
        let tensor = images.withData { bytes in
            Tensor.build([n, 1, height, width]) { out in
                kind.normalization.normalize(bytes.baseAddress!, examples: n, stride: plane, channels: 1, plane: plane,
                                             into: out.baseAddress!)
            }
        }
        return DataSplit(images: tensor, labels: labelValues, normalization: kind.normalization)
    }

    static func shapeText<C: Collection>(_ dims: C) -> String where C.Element == Int {
        dims.map(String.init).joined(separator: "×")
    }
}
