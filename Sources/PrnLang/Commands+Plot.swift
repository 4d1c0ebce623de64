import Foundation
import PrnKernel
import PrnNN
import PrnPrune
import PrnNotebook

extension Commands {
    /// Plots of weight distributions.
    static let plot: [Command] = [
        Command("plot hist", summary: "Histogram of a layer's unpruned weights, optionally `vs` another model's; an SVG file with `to`, else Unicode in the terminal.",
                parameters: [
                    .positional("model", .modelOrResult, help: "the model (or training result)"),
                    .keyword("layer", .layerName, default: .required, help: "the layer, e.g. fc1 (or its weight's path, fc1.weight)"),
                    .positional("vs", .symbol(["vs"], name: "word"), default: .absent, help: "the word `vs`, to overlay a second model"),
                    .positional("other", .modelOrInit, default: .absent, help: "a model, or `init` (the model's full initial weights)"),
                    .positional("to", .symbol(["to"], name: "word"), default: .absent, help: "the word `to`, to write a file"),
                    .positional("path", .string, default: .absent, help: "the .svg file to write"),
                    .keyword("bins", .int(1...1000), default: .value(.int(50)), help: "number of bins"),
                ],
                example: "plot hist (model lenet300 seed=1) layer=fc1") { args, interpreter in
            let model = try args.object(ModelValue.self, "model").model
            let layer = try args.symbol("layer")
            let path = model.prunablePaths.contains(layer) ? layer : layer + ".weight"
            guard model.prunablePaths.contains(path) else {
                throw args.error(Suggest.message("no prunable layer '\(layer)'", for: layer,
                                                 in: model.prunablePaths.map { String($0.dropLast(".weight".count)) }), at: "layer")
            }
            var samples = [(label: label(model), values: LayerStats.unprunedWeights(model, path))]
            if let other = args.value("other") {
                let (b, isInit) = try comparand(other, of: model, args)
                guard b.prunablePaths.contains(path) else { throw args.error("the other model has no layer '\(layer)'", at: "other") }
                samples.append((isInit ? "init (all weights)" : label(b), LayerStats.unprunedWeights(b, path)))
            }
            let histogram = Histogram(samples, bins: try args.int("bins"))
            if let file = try args.optionalString("path") {
                let target = expandTilde(file)
                try AtomicFile.write(histogram.svg(title: "\(path): unpruned weights"), to: target, createFolder: true)
                interpreter.emitPlot(svgPath: target, caption: "\(path): " + samples.map(\.label).joined(separator: " vs "))
            } else {
                interpreter.emit(histogram.terminal())
            }
            return .none
        },
    ]

    /// A model's label in plots: its method and ablation.
    static func label(_ model: Model) -> String {
        let method = model.provenance["method"] ?? "dense"
        let ablation = model.provenance["ablation"].flatMap { $0 == "original" || $0 == "none" ? nil : $0 }
        return ablation.map { "\(method) \($0)" } ?? method
    }
}

extension ParamType {
    /// A layer name, bare (`layer=fc1`) or as a string.
    static let layerName = ParamType("layer", "LAYER", symbols: []) { value in
        switch value {
        case .symbol, .string: return value.symbolText.map(Value.symbol) ?? value
        default: throw mismatch("a layer name such as fc1", value)
        }
    }
}

extension Value {
    var symbolText: String? {
        switch self {
        case .symbol(let s), .string(let s): return s
        default: return nil
        }
    }
}
