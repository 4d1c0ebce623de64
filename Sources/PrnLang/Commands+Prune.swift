import Foundation
import PrnKernel
import PrnNN
import PrnPrune
import PrnNotebook

extension Commands {
    /// Pruning at initialization and the ablations of a pruned model (METHODS.md).
    static let pruning: [Command] = [
        Command("prune", summary: "A copy of the model with masks keeping the highest-scoring weights; give one of sparsity=, density=, compression=. "
                + "Unlike Synaptic-Flow's code, counts are exact (kept = round(d·N), ties broken by index), invert negates scores "
                + "instead of taking reciprocals, and SNIP differentiates with respect to the masked weight m⊙w.",
                parameters: [
                    .positional("model", .modelOrResult, help: "the model to prune (unchanged)"),
                    .keyword("method", .symbol(PruneMethod.allCases.map(\.rawValue), name: "method"), default: .required,
                             help: "random, magnitude, snip, grasp or synflow"),
                    .keyword("sparsity", .fraction, default: .absent, help: "fraction of prunable weights to remove"),
                    .keyword("density", .fraction, default: .absent, help: "fraction of prunable weights to keep"),
                    .keyword("compression", .positive, default: .absent, help: "keep 10^-c of the weights (c=2 keeps 1%)"),
                    .keyword("data", .dataset, default: .absent, help: "scoring data (snip, grasp need it)"),
                    .keyword("scope", .symbol(["global", "layer"], name: "scope"), default: .value(.symbol("global")),
                             help: "global: one threshold over all layers; layer: each layer keeps its density"),
                    .keyword("rounds", .int(1...10_000), default: .absent, help: "prune iteratively, density d^(e/E) after round e (synflow: 100)"),
                    .keyword("samples", .int(1...1_000_000), default: .absent, help: "scoring examples for snip/grasp (default 10 × classes)"),
                    .keyword("invert", .bool, default: .value(.bool(false)), help: "keep the lowest scores instead"),
                    .seed,
                ],
                example: "p = prune (model lenet300 seed=1) method=magnitude sparsity=0.9") { args, interpreter in
            let model = try args.object(ModelValue.self, "model").model
            let method = PruneMethod(rawValue: try args.symbol("method")) ?? .random
            let given = ["sparsity", "density", "compression"].filter { args.value($0) != nil }
            guard given.count == 1 else {
                throw args.error(given.isEmpty ? "give one of sparsity=, density= or compression="
                                 : "give only one of sparsity=, density= or compression=", at: given.last ?? "model")
            }
            let target: PruneTarget
            switch given[0] {
            case "sparsity": target = .sparsity(try args.double("sparsity"))
            case "density": target = .density(try args.double("density"))
            default: target = .compression(try args.double("compression"))
            }
            let data = try args.optionalObject(DatasetValue.self, "data")?.dataset
            if let data, method.needsData { try checkFits(model, data, args) }
            let result = try Pruner.prune(model, method: method, target: target,
                                          scope: PruneScope(rawValue: try args.symbol("scope")) ?? .global,
                                          data: data, rounds: try args.optionalInt("rounds"), samples: try args.optionalInt("samples"),
                                          seed: try interpreter.seed(args), invert: try args.bool("invert"),
                                          shouldStop: { Interrupt.requested })
            let layers = result.layers.map { "\(shortName($0.path)) \(String(format: "%.4f", $0.density))" }.joined(separator: ", ")
            interpreter.emit("pruned \(method.rawValue) to density \(String(format: "%.4f", result.density)) "
                             + "(\(result.model.unprunedCount) of \(result.model.prunableCount)): \(layers)")
            for note in result.notes { interpreter.emit("note: \(note)") }
            return .object(ModelValue(result.model))
        },
        Command("shuffle", summary: "Layerwise shuffle: a copy whose every layer's mask is randomly permuted (same count, new positions).",
                parameters: [.positional("model", .modelOrResult, help: "a pruned model"), .seed],
                example: "shuffle (prune (model lenet300 seed=1) method=magnitude sparsity=0.9)") { args, interpreter in
            .object(ModelValue(try Ablation.shuffle(try args.object(ModelValue.self, "model").model, seed: try interpreter.seed(args))))
        },
        Command("reinit", summary: "Reinitialize: a copy with fresh weights from the model's own initializer and the same masks.",
                parameters: [.positional("model", .modelOrResult, help: "a pruned model"), .seed],
                example: "reinit (prune (model lenet300 seed=1) method=magnitude sparsity=0.9)") { args, interpreter in
            .object(ModelValue(try Ablation.reinit(try args.object(ModelValue.self, "model").model, seed: try interpreter.seed(args))))
        },
        Command("scores", summary: "The per-layer score tensors a method assigns (for cross-checks; `save s to \"x.safetensors\"`).",
                parameters: [
                    .positional("model", .modelOrResult, help: "the model to score"),
                    .keyword("method", .symbol(PruneMethod.allCases.map(\.rawValue), name: "method"), default: .required,
                             help: "random, magnitude, snip, grasp or synflow"),
                    .keyword("data", .dataset, default: .absent, help: "scoring data (snip, grasp need it)"),
                    .keyword("samples", .int(1...1_000_000), default: .absent, help: "scoring examples (default 10 × classes)"),
                    .seed,
                ],
                example: "s = scores (model lenet300 seed=1) method=synflow") { args, interpreter in
            let model = try args.object(ModelValue.self, "model").model
            let method = PruneMethod(rawValue: try args.symbol("method")) ?? .random
            let data = try args.optionalObject(DatasetValue.self, "data")?.dataset
            if let data, method.needsData { try checkFits(model, data, args) }
            let scores = try Pruner.scores(model, method: method, data: data, samples: try args.optionalInt("samples"),
                                           seed: try interpreter.seed(args))
            return .object(ScoresValue(method: method.rawValue, layers: model.prunablePaths, tensors: scores))
        },
    ]

    /// `fc1.weight` → `fc1`.
    static func shortName(_ path: String) -> String { path.hasSuffix(".weight") ? String(path.dropLast(7)) : path }
}

/// Per-layer score tensors, by weight path.
public struct ScoresValue: LangObject {
    public static let typeName = "scores"
    public static let fields: [Field] = [
        .of(ScoresValue.self, "method", "the scoring method") { .symbol($0.method) },
        .of(ScoresValue.self, "layers", "the scored weights' paths") { .list($0.layers.map(Value.string)) },
    ]
    public let method: String
    public let layers: [String]
    public let tensors: [String: Tensor]
    public var size: String { "\(tensors.values.reduce(0) { $0 + $1.count }) scores" }
    public var description: String { "\(method) scores for " + layers.map { Commands.shortName($0) }.joined(separator: ", ") }

    /// Writes the tensors to safetensors, by weight path, with the method in the metadata.
    func save(to path: String) throws {
        let data = try SafeTensors.encode(tensors.mapValues { .f32($0) }, metadata: ["format": "prn-scores", "method": method])
        try AtomicFile.write(data, to: path)
    }
}

extension ModelValue {
    /// Per-layer achieved and effective density (weights still on an input–output path).
    var densityTable: Table {
        var t = Table(columns: ["layer", "total", "kept", "density", "effective", "effective_density"], title: "density per layer")
        let effective = (try? Connectivity.effectiveDensity(model)) ?? []
        for layer in LayerDensity.of(model) {
            let e = effective.first { $0.path == layer.path }
            t = t.appending([("layer", .text(layer.path)), ("total", .int(layer.total)), ("kept", .int(layer.kept)),
                             ("density", .number(layer.density)), ("effective", e.map { .int($0.effective) } ?? .missing),
                             ("effective_density", e.map { .number($0.effectiveDensity) } ?? .missing)])
        }
        return t
    }
}
