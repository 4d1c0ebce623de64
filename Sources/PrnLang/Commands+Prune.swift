import Foundation
import PrnKernel
import PrnFiles
import PrnNN
import PrnPrune
import PrnData
import PrnNotebook

extension Commands {
    /// Pruning at initialization and the ablations of a pruned model (METHODS.md).
    static let pruning: [Command] = [
        Command("prune", summary: "A copy of the model with masks keeping the highest-scoring weights; give one of sparsity=, density=, compression=. "
                + "Unlike Synaptic-Flow's code, counts are exact (kept = round(d·N), ties broken by index), invert negates scores "
                + "instead of taking reciprocals, and SNIP differentiates with respect to the masked weight m⊙w.",
                example: "p = prune (model lenet300 seed=1) method=magnitude sparsity=0.9") { p in
            let model = p.positional("model", ModelValue.self, type: .modelOrResult, help: "the model to prune (unchanged)")
            let method = p.keyword("method", PruneMethod.self, help: "how weights are scored")
            let sparsity = p.keyword("sparsity", Fraction?.self, help: "fraction of prunable weights to remove")
            let density = p.keyword("density", Fraction?.self, help: "fraction of prunable weights to keep")
            let compression = p.keyword("compression", Positive?.self, help: "keep 10^-c of the weights (c=2 keeps 1%)")
            let remove = p.keyword("remove", Fraction?.self,
                                   help: "remove ceil(f·kept) of the weights the pooled layers still keep (open_lth's lottery levels)")
            let data = p.keyword("data", DatasetValue?.self, help: "scoring data (snip, grasp need it)")
            let corrupt = p.keyword("corrupt", Corruption.Kind?.self,
                                    help: "score on corrupted data (Su et al.): wrong labels, or one pixel permutation; training data stays clean")
            let fraction = p.keyword("fraction", default: Fraction(1),
                                     help: "corrupt=labels: the fraction of examples given a wrong label (uniform over the other classes)")
            let scope = p.keyword("scope", default: PruneScope.global,
                                  help: "global: one threshold; layer: each layer keeps d; erk, er: RigL's Erdős–Rényi(-Kernel) densities "
                                  + "(kept counts round, RigL floors); smart: Su et al.'s smart ratios")
            let denseFirst = p.keyword("dense_first", default: false, help: "keep the first layer dense; it leaves the budget, the others share d")
            let last = p.keyword("last", Fraction?.self,
                                 help: "the last layer's density (1 = dense); it leaves the budget. With remove=, default 1 for "
                                 + "lenet300 and vgg (open_lth ignores fc.weight)")
            let linearKeep = p.keyword("linear_keep", default: Fraction(0.3), help: "scope=smart: every linear layer's density")
            let rounds = p.keyword("rounds", Int?.self, type: .int(1...10_000),
                                   help: "prune iteratively, density d^(e/E) after round e (synflow: 100)")
            let samples = p.keyword("samples", Int?.self, type: .int(1...1_000_000),
                                    help: "scoring examples for snip/grasp (default 10 × classes)")
            let invert = p.keyword("invert", default: false, help: "keep the lowest scores instead")
            let seed = p.seed()
            return { args, interpreter in
                let model = args[model].model, method = args[method], scope = args[scope]
                var allocation = AllocationOptions(denseFirst: args[denseFirst], last: args[last]?.value,
                                                   linearKeep: args[linearKeep].value)
                if args[remove] != nil && args[last] == nil { allocation.last = Lottery.defaultLast(model.architecture) }
                let removing = try args[remove].map { f -> PruneTarget in
                    guard scope == .global else { throw args.error("remove= ranks one global pool; leave scope= out", at: "scope") }
                    return .density(try Lottery.density(removing: f.value, from: model, allocation: allocation))
                }
                let targets: [(name: String, target: PruneTarget?)] = [
                    ("sparsity", args[sparsity].map { .sparsity($0.value) }),
                    ("density", args[density].map { .density($0.value) }),
                    ("compression", args[compression].map { .compression($0.value) }),
                    ("remove", removing),
                ]
                let given = targets.filter { $0.target != nil }
                guard given.count == 1, let target = given[0].target else {
                    throw args.error(given.isEmpty ? "give one of sparsity=, density=, compression= or remove="
                                     : "give only one of sparsity=, density=, compression= or remove=", at: given.last?.name ?? "model")
                }
                var data = args[data]?.dataset
                if let data, method.needsData { try checkFits(model, data, args) }
                let seed = interpreter.seed(args[seed], at: args.call)
                if let kind = args[corrupt] {
                    guard let clean = data, method.needsData else {
                        throw args.error("corrupt= changes scoring data; only snip and grasp score with data=", at: "corrupt")
                    }
                    data = try clean.corrupted(kind == .pixels ? .pixels : .labels(fraction: args[fraction].value), seed: seed)
                }
                let result = try Pruner.prune(model, method: method, target: target, scope: scope, allocation: allocation,
                                              data: data, rounds: args[rounds], samples: args[samples],
                                              seed: seed, invert: args[invert],
                                              shouldStop: { Interrupt.requested })
                let layers = result.layers.map { "\(shortName($0.path)) \(String(format: "%.4f", $0.density))" }.joined(separator: ", ")
                interpreter.emit("pruned \(method.rawValue) to density \(String(format: "%.4f", result.density)) "
                                 + "(\(result.model.unprunedCount) of \(result.model.prunableCount)): \(layers)")
                for note in result.notes { interpreter.emit("note: \(note)") }
                return .object(ModelValue(result.model))
            }
        },
        ablation("shuffle", summary: "Layerwise shuffle: a copy whose every layer's mask is randomly permuted (same count, new positions).",
                 Ablation.shuffle),
        ablation("shuffle_weights", summary: "Weight shuffle (Su et al.): a copy with the same masks whose kept weights' values are "
                 + "permuted among each layer's kept positions (each layer's multiset of kept values unchanged).",
                 Ablation.shuffleWeights),
        Command("rewind", summary: "Lottery-ticket rewinding: a copy of a pruned model with its masks over the weights of another "
                + "model, or of a training result at a kept epoch (`train … keep=[K]`).",
                example: "rewind (prune r.model method=magnitude remove=0.2) to=m") { p in
            let model = p.positional("model", ModelValue.self, type: .modelOrResult, help: "the pruned model whose masks are kept")
            let to = p.keyword("to", Value.self, help: "a model (e.g. the initial one), or a training result with epoch=")
            let epoch = p.keyword("epoch", Int?.self, type: .int(0...1_000_000), help: "the kept epoch of the result given as to=")
            return { args, _ in
                let weights: Model
                switch (args[to], args[epoch]) {
                case (.object(let result as TrainResultValue), let epoch?):
                    guard let snapshot = result.result.snapshots[epoch] else {
                        let kept = result.result.snapshots.keys.sorted().map(String.init).joined(separator: ", ")
                        throw args.error("the result kept no weights at epoch \(epoch)"
                                         + (kept.isEmpty ? "; train with keep=[\(epoch)]" : " (kept: \(kept))"), at: "epoch")
                    }
                    weights = snapshot
                case (.object(let model as ModelValue), nil):
                    weights = model.model
                case (.object(is TrainResultValue), nil):
                    throw args.error("rewinding to a training result needs epoch= (one of the epochs its keep= recorded)", at: "to")
                default:
                    throw args.error("'to' expects a model, or a training result with epoch=", at: "to")
                }
                return .object(ModelValue(try Lottery.rewind(args[model].model, to: weights)))
            }
        },
        ablation("reinit", summary: "Reinitialize: a copy with fresh weights from the model's own initializer and the same masks.",
                 Ablation.reinit),
        Command("scores", summary: "The per-layer score tensors a method assigns (for cross-checks; `save s to \"x.safetensors\"`).",
                example: "s = scores (model lenet300 seed=1) method=synflow") { p in
            let model = p.positional("model", ModelValue.self, type: .modelOrResult, help: "the model to score")
            let method = p.keyword("method", PruneMethod.self, help: "how weights are scored")
            let data = p.keyword("data", DatasetValue?.self, help: "scoring data (snip, grasp need it)")
            let samples = p.keyword("samples", Int?.self, type: .int(1...1_000_000), help: "scoring examples (default 10 × classes)")
            let seed = p.seed()
            return { args, interpreter in
                let model = args[model].model, method = args[method]
                let data = args[data]?.dataset
                if let data, method.needsData { try checkFits(model, data, args) }
                let scores = try Pruner.scores(model, method: method, data: data, samples: args[samples],
                                               seed: interpreter.seed(args[seed], at: args.call))
                return .object(ScoresValue(method: method.rawValue, layers: model.prunablePaths, tensors: scores))
            }
        },
    ]

    /// An ablation of a pruned model: `NAME MODEL [seed=INT]`.
    private static func ablation(_ name: String, summary: String, _ apply: @escaping (Model, UInt64) throws -> Model) -> Command {
        Command(name, summary: summary, example: "\(name) (prune (model lenet300 seed=1) method=magnitude sparsity=0.9)") { p in
            let model = p.positional("model", ModelValue.self, type: .modelOrResult, help: "a pruned model")
            let seed = p.seed()
            return { args, interpreter in
                .object(ModelValue(try apply(args[model].model, interpreter.seed(args[seed], at: args.call))))
            }
        }
    }

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

extension PruneMethod: ChoiceArgument {}
extension PruneScope: ChoiceArgument {}

extension Corruption {
    /// What `corrupt=` names: the labels or the pixels.
    enum Kind: String, CaseIterable, ChoiceArgument { case labels, pixels }
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
