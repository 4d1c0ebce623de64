import Foundation
import PrnKernel
import PrnNN
import PrnPrune
import PrnNotebook

extension Commands {
    /// Layer-wise statistics of the unpruned weights (METHODS.md, Layer statistics).
    static let stats: [Command] = [
        Command("stats", summary: "Per prunable layer: statistics of the unpruned weights, or `vs` another model (KS, W1, std change, mask Jaccard) or `vs init`.",
                example: "stats (model lenet300 seed=1)") { p in
            let model = p.positional("model", ModelValue.self, type: .modelOrResult, help: "the model (or training result)")
            let vs = p.positional("vs", Versus?.self, help: "the word `vs`, to compare")
            let other = p.positional("other", Value?.self, type: .modelOrInit,
                                     help: "a model, or `init`: the model's own full initial weights (regenerated from its init seed)")
            let all = p.keyword("all", default: false, help: "show every column (the value always has them all)")
            return { args, _ in
                let model = args[model].model
                guard args[vs] != nil || args[other] != nil else {
                    let rows = LayerStats.describe(model: model)
                    let table = Table(columns: LayerDescription.columns, rows: rows.map(\.row), title: "unpruned weights per layer")
                    return .object(TableValue(table, shown: args[all] ? nil : ["layer", "shape", "kept", "density", "effective_density",
                                                                              "mean", "std", "mean_abs", "skew", "kurtosis", "min", "max"]))
                }
                guard args[vs] != nil, let (b, isInit) = try comparand(args[other], of: model) else {
                    throw args.error("compare with `stats A vs B` or `stats A vs init`", at: vs)
                }
                let comparisons = isInit ? try LayerStats.compareToInit(model, initial: b) : try LayerStats.compare(model, b)
                return .object(TableValue(Table(columns: LayerComparison.columns, rows: comparisons.map(\.row),
                                                title: "unpruned weights, A vs B, per layer")))
            }
        },
    ]

    /// What `vs` names, if anything: another model, or `init`, the model's own initial weights.
    static func comparand(_ other: Value?, of model: Model) throws -> (model: Model, isInit: Bool)? {
        switch other {
        case nil: return nil
        case .symbol("init")?: return (try initialModel(of: model), true)
        case .object(let value as ModelValue)?: return (value.model, false)
        case let value?: throw ArgumentError.expects("a model or init", got: value)
        }
    }

    /// The model's weights at initialization, regenerated from its init seed, without masks.
    static func initialModel(of model: Model) throws -> Model {
        guard let seed = model.provenance.initSeed else {
            throw ArgumentError("the model records no init seed, so its initial weights cannot be regenerated")
        }
        return try Model(model.architecture, seed: seed)
    }
}

extension ParamType {
    /// A model (or result), or the symbol `init`.
    static let modelOrInit = ParamType("model", "MODEL|init", symbols: ["init"]) { value in
        if case .symbol("init") = value { return value }
        return try ParamType.modelOrResult.convert(value)
    }
}

/// The word `vs` between two things compared.
enum Versus: String, ChoiceArgument {
    case vs
    static let choiceName: String? = "word"
}
