import Foundation
import PrnKernel
import PrnNN
import PrnNotebook

extension Commands {
    /// Building, saving and loading networks.
    static let model: [Command] = [
        Command("model", summary: "A freshly initialized network from the zoo; input shape and classes come from `data`.",
                parameters: [
                    .positional("name", .symbol(Zoo.names, name: "architecture"), help: "mlp, lenet300, lenet5, conv2, conv4, conv6, vgg11, vgg16 or resnet20"),
                    .keyword("data", .dataset, default: .absent, help: "the data set it will see (default: 1×28×28 inputs, 10 classes)"),
                    .keyword("width", .positive, default: .value(.float(1)), help: "multiplier for every hidden width and channel count"),
                    .keyword("widths", .sizes, default: .absent, help: "hidden layer widths, for mlp"),
                    .keyword("init", .symbol(Initializer.allCases.map(\.rawValue), name: "initializer"),
                             default: .value(.symbol("kaiming_normal")), help: "kaiming_normal, pytorch_default or xavier"),
                    .seed,
                ],
                example: "m = model lenet300 seed=1") { args, interpreter in
            let data = try args.optionalObject(DatasetValue.self, "data")?.dataset
            let architecture = Architecture(
                name: try args.symbol("name"), inputShape: data?.inputShape ?? [1, 28, 28], classes: data?.classes ?? 10,
                width: try args.double("width"), hidden: try args.ints("widths") ?? [],
                initializer: Initializer(rawValue: try args.symbol("init")) ?? .kaimingNormal)
            return .object(ModelValue(try Model(architecture, seed: try interpreter.seed(args))))
        },
        Command("save", summary: "Write a model (or a training result's model) or scores to safetensors, or a table to .csv, .md or .jsonl.",
                parameters: [
                    .positional("value", .any, help: "a model, a training result, or a table"),
                    .positional("to", .symbol(["to"], name: "word"), help: "the word `to`"),
                    .positional("path", .string, help: "the file to write (atomically)"),
                ],
                example: "save m to \"lenet.safetensors\"") { args, interpreter in
            let path = expandTilde(try args.string("path"))
            guard case let value? = args.value("value") else { return .none }
            switch value {
            case .object(let object as ModelValue):
                try saveModel(object.model, to: path)
            case .object(let object as TrainResultValue):
                try saveModel(object.result.model, to: path)
            case .object(let object as ScoresValue):
                do { try object.save(to: path) } catch let error as FileWriteError { throw ArgumentError(error.description) }
            case .object(let object as TableValue):
                guard let format = Table.format(forPath: path) else {
                    throw args.error("a table saves to .csv, .md or .jsonl, not '\(path)'", at: "path")
                }
                try AtomicFile.write(object.table.rendered(as: format), to: path, createFolder: true)
            default:
                throw args.error("'value' expects a model, a result or a table, got \(value.typeName)", at: "value")
            }
            return .none
        },
        Command("load", summary: "Read a model saved by `save` (safetensors with prn's metadata), validating every byte range.",
                parameters: [.positional("path", .string, help: "the .safetensors file")],
                example: "m = load \"lenet.safetensors\"") { args, _ in
            do {
                return .object(ModelValue(try Model.load(from: expandTilde(try args.string("path")))))
            } catch let error as SafeTensors.FormatError {
                throw ArgumentError(error.description)  // already names the file and what is wrong
            }
        },
    ]

    static func saveModel(_ model: Model, to path: String) throws {
        do { try model.save(to: path) } catch let error as FileWriteError { throw ArgumentError(error.description) }
    }
}
