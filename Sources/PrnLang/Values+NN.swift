import Foundation
import PrnKernel
import PrnData
import PrnNN
import PrnNotebook

/// A loaded data set, shared: the value refers to the cached tensors, it does not copy them.
public struct DatasetValue: LangObject {
    public static let typeName = "data"
    public static let fields: [Field] = [
        .of(DatasetValue.self, "name", "the data set's name") { .string($0.dataset.name) },
        .of(DatasetValue.self, "classes", "the number of classes") { .int($0.dataset.classes) },
        .of(DatasetValue.self, "train", "training examples") { .int($0.dataset.train.count) },
        .of(DatasetValue.self, "test", "test examples") { .int($0.dataset.test.count) },
        .of(DatasetValue.self, "val", "held-out validation examples") { .int($0.dataset.validation?.count ?? 0) },
        .of(DatasetValue.self, "shape", "one example's shape") { .list($0.dataset.inputShape.map(Value.int)) },
        .of(DatasetValue.self, "checksum", "CRC-32 of the raw files, for provenance") { .string($0.dataset.checksumText) },
    ]
    public let dataset: Dataset
    public var size: String { "\(dataset.train.count)+\(dataset.test.count) examples" }
    public var description: String { dataset.description }
}

/// A network with its masks and provenance.
public struct ModelValue: LangObject {
    public static let typeName = "model"
    public static let fields: [Field] = [
        .of(ModelValue.self, "name", "the architecture's zoo name") { .string($0.model.architecture.name.rawValue) },
        .of(ModelValue.self, "params", "trainable scalars") { .int($0.model.parameterCount) },
        .of(ModelValue.self, "prunable", "prunable weights (conv and linear)") { .int($0.model.prunableCount) },
        .of(ModelValue.self, "kept", "prunable weights left unmasked") { .int($0.model.unprunedCount) },
        .of(ModelValue.self, "density", "fraction of prunable weights kept") { .float($0.density) },
        .of(ModelValue.self, "sparsity", "fraction of prunable weights pruned") { .float(1 - $0.density) },
        .of(ModelValue.self, "layers", "paths of the prunable weights") { .list($0.model.prunablePaths.map(Value.string)) },
        .of(ModelValue.self, "method", "pruning method, or dense") { .symbol($0.model.provenance.methodName) },
        .of(ModelValue.self, "ablation", "original, or its ablations joined by + (shuffle, shuffle_weights, reinit)") {
            .symbol($0.model.provenance.ablationName)
        },
        .of(ModelValue.self, "init", "the initializer") { .symbol($0.model.architecture.initializer.rawValue) },
        .of(ModelValue.self, "densities", "per layer: kept, density and effective density") { .object(TableValue($0.densityTable)) },
        .of(ModelValue.self, "seed", "the seed of its current weights") { .int($0.model.provenance.initSeed.flatMap { Int(exactly: $0) } ?? 0) },
    ]
    public let model: Model

    public init(_ model: Model) { self.model = model }

    var density: Double {
        Double(model.unprunedCount) / Double(Swift.max(model.prunableCount, 1))
    }

    public var size: String { "\(model.parameterCount) params" }

    public var description: String {
        let a = model.architecture
        var parts = ["\(a.name)", "\(model.parameterCount) params", String(format: "density %.4f", density)]
        if let pruning = model.provenance.pruning { parts.append("method \(pruning.method.rawValue)") }
        if !model.provenance.ablations.isEmpty { parts.append(model.provenance.ablationName) }
        return "model " + parts.joined(separator: ", ")
    }
}

/// What `train` returns: the trained model, final metrics and the per-epoch history.
public struct TrainResultValue: LangObject {
    public static let typeName = "result"
    public static let fields: [Field] = [
        .of(TrainResultValue.self, "model", "the trained model") { .object(ModelValue($0.result.model)) },
        .of(TrainResultValue.self, "test_acc", "test accuracy after the last epoch") { .float($0.result.testAccuracy) },
        .of(TrainResultValue.self, "test_loss", "test loss after the last epoch") { .float($0.result.testLoss) },
        .of(TrainResultValue.self, "train_acc", "training accuracy over the last epoch") { .float($0.result.trainAccuracy) },
        .of(TrainResultValue.self, "train_loss", "training loss over the last epoch") { .float($0.result.trainLoss) },
        .of(TrainResultValue.self, "epochs", "epochs finished") { .int($0.result.history.count) },
        .of(TrainResultValue.self, "seconds", "wall time") { .float($0.result.seconds) },
        .of(TrainResultValue.self, "samples_per_s", "training throughput") { .float($0.result.samplesPerSecond) },
        .of(TrainResultValue.self, "interrupted", "stopped early by Ctrl-C") { .bool($0.result.interrupted) },
        .of(TrainResultValue.self, "history", "one row per epoch") { .object(TableValue($0.history)) },
        .of(TrainResultValue.self, "ablation", "the trained model's ablation") { .symbol($0.result.model.provenance.ablationName) },
        .of(TrainResultValue.self, "method", "the trained model's pruning method") { .symbol($0.result.model.provenance.methodName) },
    ]
    public let result: TrainResult
    public var size: String { "\(result.history.count) epochs" }

    var history: Table {
        var t = Table(columns: ["epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"])
        for e in result.history {
            t = t.appending([("epoch", .int(e.epoch)), ("lr", .number(Double(e.learningRate))),
                             ("train_loss", .number(e.trainLoss)), ("train_acc", .number(e.trainAccuracy)),
                             ("test_loss", .number(e.testLoss)), ("test_acc", .number(e.testAccuracy)),
                             ("seconds", .number(e.seconds))])
        }
        return t
    }

    public var description: String {
        var text = String(format: "result: test_acc %.4f, test_loss %.4f after %d epochs", result.testAccuracy,
                          result.testLoss, result.history.count)
        if ProgressBar.showsTiming { text += String(format: " (%.1f s)", result.seconds) }
        return text + (result.interrupted ? ", interrupted" : "")
    }
}

/// What `eval` returns.
public struct EvaluationValue: LangObject {
    public static let typeName = "evaluation"
    public static let fields: [Field] = [
        .of(EvaluationValue.self, "acc", "accuracy") { .float($0.accuracy) },
        .of(EvaluationValue.self, "loss", "mean cross-entropy") { .float($0.loss) },
        .of(EvaluationValue.self, "count", "examples evaluated") { .int($0.count) },
    ]
    public let accuracy: Double, loss: Double, count: Int, split: String
    public var size: String { "\(count) examples" }
    public var description: String { String(format: "%@: acc %.4f, loss %.4f (%d examples)", split, accuracy, loss, count) }
}

/// A table value (`stats`, `r.history`, `table`).
public struct TableValue: LangObject {
    public static let typeName = "table"
    public static let fields: [Field] = [
        .of(TableValue.self, "rows", "the number of rows") { .int($0.table.rows.count) },
        .of(TableValue.self, "columns", "the column names") { .list($0.table.columns.map(Value.string)) },
    ]
    public let table: Table
    /// Columns the cell output shows (all when nil); the value keeps every column for export.
    public let shown: [String]?
    public init(_ table: Table, shown: [String]? = nil) {
        self.table = table
        self.shown = shown
    }
    public var size: String { "\(table.rows.count)×\(table.columns.count)" }
    public var description: String {
        guard let shown else { return table.text }
        let keep = table.columns.indices.filter { shown.contains(table.columns[$0]) }
        return Table(columns: keep.map { table.columns[$0] }, rows: table.rows.map { row in keep.map { row[$0] } },
                     title: table.title).text
    }
}

extension ParamType {
    public static let dataset = ParamType.object(DatasetValue.self, name: "data", placeholder: "DATA")
    public static let model = ParamType.object(ModelValue.self, name: "model", placeholder: "MODEL")
    /// A model, or a training result standing for its trained model.
    public static let modelOrResult = ParamType("model", "MODEL") { value in
        if case .object(let object) = value {
            if object is ModelValue { return value }
            if let r = object as? TrainResultValue { return .object(ModelValue(r.result.model)) }
        }
        throw mismatch("a model", value)
    }
    /// A list of positive integers (`widths=[300, 100]`).
    public static let sizes = ParamType("sizes", "[INT, …]") { value in
        guard case .list(let items) = value, !items.isEmpty,
              items.allSatisfy({ if case .int(let i) = $0 { return i > 0 } else { return false } }) else {
            throw mismatch("a list of positive integers", value)
        }
        return value
    }
    /// A positive number.
    public static let positive = ParamType("number", "NUMBER") { value in
        guard let x = value.number else { throw mismatch("a number", value) }
        guard x > 0, x.isFinite else { throw ArgumentError("must be positive, got \(Value.format(x))", style: .predicate) }
        return .float(x)
    }
    /// A number in [0, 1].
    public static let fraction = ParamType("number", "NUMBER") { value in
        guard let x = value.number else { throw mismatch("a number", value) }
        guard x >= 0, x <= 1 else { throw ArgumentError("must be between 0 and 1, got \(Value.format(x))", style: .predicate) }
        return .float(x)
    }
}

extension ModelValue: ArgumentValue {
    public static func parameterType(named name: String) -> ParamType { .model }
}

extension DatasetValue: ArgumentValue {
    public static func parameterType(named name: String) -> ParamType { .dataset }
}
