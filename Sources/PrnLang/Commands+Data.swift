import Foundation
import PrnKernel
import PrnData

extension Commands {
    /// Data sets: Fashion-MNIST from Debian's package, MNIST and CIFAR-10 from the user's files,
    /// and synthetic clusters. Loaded once per process and shared.
    static let data: [Command] = [
        Command("data fashion", summary: "Fashion-MNIST from Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).",
                example: "d = data fashion") { p in
            let val = validation(p)
            let path = p.keyword("path", String?.self, help: "a folder with the four idx files instead")
            return { args, interpreter in try load(.fashion(path: args[path]), validation: args[val], interpreter) }
        },
        Command("data mnist", summary: "MNIST from the four standard idx files (gzipped or not) in `path`, else in $PRN_DATA.",
                example: "d = data mnist path=\"~/data/mnist\"") { p in
            let val = validation(p)
            let path = p.keyword("path", String?.self, help: "the folder holding the idx files")
            return { args, interpreter in try load(.mnist(path: args[path].map(expandTilde)), validation: args[val], interpreter) }
        },
        Command("data cifar10", summary: "CIFAR-10 binary batches (data_batch_1.bin … test_batch.bin) in `path`, else in $PRN_DATA.",
                example: "d = data cifar10 path=\"~/data/cifar-10-batches-bin\"") { p in
            let val = validation(p)
            let path = p.keyword("path", String?.self, help: "the folder holding the .bin files")
            return { args, interpreter in try load(.cifar10(path: args[path].map(expandTilde)), validation: args[val], interpreter) }
        },
        Command("data synthetic", summary: "Seeded Gaussian clusters, one per class; needs no files.",
                example: "d = data synthetic classes=3 shape=[20] seed=1") { p in
            let classes = p.keyword("classes", default: 10, type: .int(2...1000), help: "number of classes")
            let shape = p.keyword("shape", default: [1, 28, 28], help: "one example's shape, [C, H, W] or [D]")
            let train = p.keyword("train", default: 1000, type: .int(1...10_000_000), help: "training examples")
            let test = p.keyword("test", default: 200, type: .int(1...10_000_000), help: "test examples")
            let noise = p.keyword("noise", default: 1.0, help: "standard deviation around each class mean")
            let val = validation(p)
            let seed = p.seed()
            return { args, interpreter in
                let spec = SyntheticSpec(classes: args[classes], shape: args[shape], train: args[train], test: args[test],
                                         noise: Float(args[noise]), seed: interpreter.seed(args[seed], at: args.call))
                try spec.validate()
                return try load(.synthetic(spec), validation: args[val], interpreter)
            }
        },
    ]

    /// The `val=` every data set takes.
    private static func validation(_ p: ParameterList) -> Arg<Int> {
        p.keyword("val", default: 0, type: .int(0...Int.max), help: "hold out the last N training examples as a validation split")
    }

    private static func load(_ source: DataSource, validation: Int, _ interpreter: Interpreter) throws -> Value {
        do {
            let dataset = try Dataset.load(source, validation: validation)
            interpreter.addProvenance("data \(dataset.name)", "\(dataset.checksumText) (\(dataset.files.isEmpty ? "generated" : dataset.files.joined(separator: ", ")))")
            return .object(DatasetValue(dataset: dataset))
        } catch let error as DataError {
            throw ArgumentError(error.description)  // already names the file and what is wrong
        }
    }

    static func expandTilde(_ path: String) -> String { (path as NSString).expandingTildeInPath }
}
