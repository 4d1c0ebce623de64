import Foundation
import PrnKernel
import PrnData

extension Commands {
    /// Data sets: Fashion-MNIST from Debian's package, MNIST and CIFAR-10 from the user's files,
    /// and synthetic clusters. Loaded once per process and shared.
    static let data: [Command] = [
        Command("data fashion", summary: "Fashion-MNIST from Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).",
                parameters: [val, .keyword("path", .string, default: .absent, help: "a folder with the four idx files instead")],
                example: "d = data fashion") { args, interpreter in
            try load(.fashion(path: try args.optionalString("path")), args, interpreter)
        },
        Command("data mnist", summary: "MNIST from the four standard idx files (gzipped or not) in `path`, else in $PRN_DATA.",
                parameters: [val, .keyword("path", .string, default: .absent, help: "the folder holding the idx files")],
                example: "d = data mnist path=\"~/data/mnist\"") { args, interpreter in
            try load(.mnist(path: try args.optionalString("path").map(expandTilde)), args, interpreter)
        },
        Command("data cifar10", summary: "CIFAR-10 binary batches (data_batch_1.bin … test_batch.bin) in `path`, else in $PRN_DATA.",
                parameters: [val, .keyword("path", .string, default: .absent, help: "the folder holding the .bin files")],
                example: "d = data cifar10 path=\"~/data/cifar-10-batches-bin\"") { args, interpreter in
            try load(.cifar10(path: try args.optionalString("path").map(expandTilde)), args, interpreter)
        },
        Command("data synthetic", summary: "Seeded Gaussian clusters, one per class; needs no files.",
                parameters: [
                    .keyword("classes", .int(2...1000), default: .value(.int(10)), help: "number of classes"),
                    .keyword("shape", .shape, default: .value(.list([.int(1), .int(28), .int(28)])), help: "one example's shape, [C, H, W] or [D]"),
                    .keyword("train", .int(1...10_000_000), default: .value(.int(1000)), help: "training examples"),
                    .keyword("test", .int(1...10_000_000), default: .value(.int(200)), help: "test examples"),
                    .keyword("noise", .number, default: .value(.float(1)), help: "standard deviation around each class mean"),
                    val, .seed,
                ],
                example: "d = data synthetic classes=3 shape=[20] seed=1") { args, interpreter in
            let spec = SyntheticSpec(classes: try args.int("classes"), shape: try args.shape("shape"),
                                     train: try args.int("train"), test: try args.int("test"),
                                     noise: Float(try args.double("noise")), seed: try interpreter.seed(args))
            try spec.validate()
            return try load(.synthetic(spec), args, interpreter)
        },
    ]

    private static let val = Parameter.keyword("val", .int(0...Int.max), default: .value(.int(0)),
                                               help: "hold out the last N training examples as a validation split")

    private static func load(_ source: DataSource, _ args: Arguments, _ interpreter: Interpreter) throws -> Value {
        do {
            let dataset = try Dataset.load(source, validation: try args.int("val"))
            interpreter.addProvenance("data \(dataset.name)", "\(dataset.checksumText) (\(dataset.files.isEmpty ? "generated" : dataset.files.joined(separator: ", ")))")
            return .object(DatasetValue(dataset: dataset))
        } catch let error as DataError {
            throw ArgumentError(error.description)  // already names the file and what is wrong
        }
    }

    static func expandTilde(_ path: String) -> String { (path as NSString).expandingTildeInPath }
}
