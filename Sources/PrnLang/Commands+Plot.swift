import Foundation
import PrnFiles
import PrnNN
import PrnPrune
import PrnNotebook

extension Commands {
    /// Plots of weight distributions.
    static let plot: [Command] = [
        Command("plot hist", summary: "Histogram of a layer's unpruned weights, optionally `vs` another model's; an SVG file with `to`, else Unicode in the terminal.",
                example: "plot hist (model lenet300 seed=1) layer=fc1") { p in
            let model = p.positional("model", ModelValue.self, type: .modelOrResult, help: "the model (or training result)")
            let layer = p.keyword("layer", String.self, type: .layerName, help: "the layer, e.g. fc1 (or its weight's path, fc1.weight)")
            _ = p.positional("vs", Versus?.self, help: "the word `vs`, to overlay a second model")
            let other = p.positional("other", Value?.self, type: .modelOrInit, help: "a model, or `init` (the model's full initial weights)")
            _ = p.positional("to", Word?.self, help: "the word `to`, to write a file")
            let file = p.positional("path", String?.self, help: "the .svg file to write")
            let bins = p.keyword("bins", default: 50, type: .int(1...1000), help: "number of bins")
            return { args, interpreter in
                let model = args[model].model, name = args[layer]
                let path = model.prunablePaths.contains(name) ? name : name + ".weight"
                guard model.prunablePaths.contains(path) else {
                    throw args.error(Suggest.message("no prunable layer '\(name)'", for: name,
                                                     in: model.prunablePaths.map { String($0.dropLast(".weight".count)) }), at: layer)
                }
                var samples = [(label: label(model), values: LayerStats.unprunedWeights(model, path))]
                if let comparand = try comparand(args[other], of: model) {
                    guard comparand.model.prunablePaths.contains(path) else {
                        throw args.error("the other model has no layer '\(name)'", at: other)
                    }
                    samples.append((comparand.isInit ? "init (all weights)" : label(comparand.model),
                                    LayerStats.unprunedWeights(comparand.model, path)))
                }
                let histogram = Histogram(samples, bins: args[bins])
                if let target = args[file].map(expandTilde) {
                    try AtomicFile.write(histogram.svg(title: "\(path): unpruned weights"), to: target, createFolder: true)
                    interpreter.emitPlot(svgPath: target, caption: "\(path): " + samples.map(\.label).joined(separator: " vs "))
                } else {
                    interpreter.emit(histogram.terminal())
                }
                return .none
            }
        },
    ]

    /// A model's label in plots: its method, then its ablation unless it is the original.
    static func label(_ model: Model) -> String {
        let provenance = model.provenance
        return provenance.ablations.isEmpty ? provenance.methodName : "\(provenance.methodName) \(provenance.ablationName)"
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
