import Foundation
import PrnFiles
import PrnNN
import PrnNotebook

extension Commands {
    /// Building, saving and loading networks.
    static let model: [Command] = [
        Command("model", summary: "A freshly initialized network from the zoo; input shape and classes come from `data`.",
                example: "m = model lenet300 seed=1") { p in
            let name = p.positional("name", Zoo.self, help: "the zoo family")
            let data = p.keyword("data", DatasetValue?.self, help: "the data set it will see (default: 1×28×28 inputs, 10 classes)")
            let width = p.keyword("width", default: Positive(1), help: "multiplier for every hidden width and channel count")
            let widths = p.keyword("widths", [Int]?.self, type: .sizes, help: "hidden layer widths, for mlp")
            let initializer = p.keyword("init", default: Initializer.kaimingNormal, help: "how the weights are drawn")
            let seed = p.seed()
            return { args, interpreter in
                let data = args[data]?.dataset
                let architecture = Architecture(
                    name: args[name], inputShape: data?.inputShape ?? [1, 28, 28], classes: data?.classes ?? 10,
                    width: args[width].value, hidden: args[widths] ?? [], initializer: args[initializer])
                return .object(ModelValue(try Model(architecture, seed: interpreter.seed(args[seed], at: args.call))))
            }
        },
        Command("save", summary: "Write a model (or a training result's model) or scores to safetensors, or a table to .csv, .md or .jsonl.",
                example: "save m to \"lenet.safetensors\"") { p in
            let value = p.positional("value", Value.self, help: "a model, a training result, or a table")
            _ = p.positional("to", Word.self, help: "the word `to`")
            let path = p.positional("path", String.self, help: "the file to write (atomically)")
            return { args, _ in
                let file = expandTilde(args[path])
                switch args[value] {
                case .object(let object as ModelValue):
                    try saveModel(object.model, to: file)
                case .object(let object as TrainResultValue):
                    try saveModel(object.result.model, to: file)
                case .object(let object as ScoresValue):
                    do { try object.save(to: file) } catch let error as FileWriteError { throw ArgumentError(error.description) }
                case .object(let object as TableValue):
                    guard let format = Table.format(forPath: file) else {
                        throw args.error("a table saves to .csv, .md or .jsonl, not '\(file)'", at: path)
                    }
                    try AtomicFile.write(object.table.rendered(as: format), to: file, createFolder: true)
                case let other:
                    throw args.error("'value' expects a model, a result or a table, got \(other.typeName)", at: value)
                }
                return .none
            }
        },
        Command("load", summary: "Read a model saved by `save` (safetensors with prn's metadata), validating every byte range.",
                example: "m = load \"lenet.safetensors\"") { p in
            let path = p.positional("path", String.self, help: "the .safetensors file")
            return { args, _ in
                do {
                    return .object(ModelValue(try Model.load(from: expandTilde(args[path]))))
                } catch let error as SafeTensors.FormatError {
                    throw ArgumentError(error.description)  // already names the file and what is wrong
                }
            }
        },
    ]

    static func saveModel(_ model: Model, to path: String) throws {
        do { try model.save(to: path) } catch let error as FileWriteError { throw ArgumentError(error.description) }
    }
}

extension Zoo: ChoiceArgument { public static let choiceName: String? = "architecture" }
extension Initializer: ChoiceArgument { public static let choiceName: String? = "initializer" }

/// The word `to` in `save m to "file"`, there so the statement reads as a sentence.
enum Word: String, ChoiceArgument {
    case to
    static let choiceName: String? = "word"
}
