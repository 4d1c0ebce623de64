import Foundation
import PrnKernel
import PrnNN
import PrnPrune

/// `BENCH_MODELS=vgg16layers prn bench sparse`: where VGG-16's sparse training step spends its
/// time. For each convolution of VGG-16 (CIFAR shape, batch 128) pruned by global SynFlow (10
/// rounds, as the benchmark's training lines) at densities 0.1 and 0.02: the layer's kept
/// fraction, the dense algorithm (`ConvAlgorithm.chosen`), the fastest of three timings of each
/// product on the dense path (forward / input gradient / weight gradient on `mask ⊙ w`) and on
/// the sparse path (the compact weight, the layer's own mask), and which one `sparse=auto` runs.
/// `step_ms` sums what `auto` runs; `best_ms` the faster path per product. Not part of the
/// default run (it is a diagnosis, not a throughput).
extension SparseBenchmark {
    static func layerTimes(threads: Int, layers: Set<String>? = nil, report: (String) -> Void) throws {
        let batch = 128
        let model = try Model(Architecture(name: .vgg16, inputShape: [3, 32, 32], classes: 10), seed: 1)
        for density in [0.1, 0.02] {
            let pruned = try Pruner.prune(model, method: .synflow, target: .density(density), rounds: 10).model
            var total = (auto: 0.0, dense: 0.0, best: 0.0)
            for (i, (layer, side)) in convolutions(of: model).enumerated() where layers?.contains(layer) ?? true {
                let path = "\(layer).weight"
                guard let mask = pruned.masks[path] else { continue }
                let weight = pruned.state[path]!
                let wShape = weight.shape, (o, c) = (wShape[0], wShape[1])
                let xShape = [batch, c, side, side], yShape = [batch, o, side, side]
                let x = Tensor.randn(xShape, seed: 3), gy = Tensor.randn(yShape, seed: 4)
                let topology = SparseTopology(mask: mask)
                let algorithm = ConvAlgorithm.chosen(input: xShape, weight: wShape, stride: 1, padding: 1)
                let masked = weight * mask
                let dense = productTimes(
                    forward: { w in _ = x.conv2d(w, padding: 1) },
                    inputGrad: { w in _ = Tensor.conv2dInputGrad(gy, w, inputShape: xShape, padding: 1) },
                    weightGrad: { _ = Tensor.conv2dWeightGrad(x, gy, weightShape: wShape, padding: 1) * mask },
                    weight: masked)
                let sparse = productTimes(
                    forward: { w in _ = x.sparseConv2d(w, topology, padding: 1) },
                    inputGrad: { w in _ = Tensor.sparseConv2dInputGrad(gy, w, topology, inputShape: xShape, padding: 1) },
                    weightGrad: { _ = Tensor.sparseConv2dWeightGrad(x, gy, topology, weightShape: [topology.count], padding: 1) },
                    weight: topology.compact(weight))
                let runsSparse = SparseSelection.convolutionRunsSparse(input: xShape, weight: wShape, stride: 1, padding: 1,
                                                                       density: topology.density, mode: .auto)
                // The first layer's input gradient is never computed in training.
                let products = i == 0 ? [0, 2] : [0, 1, 2]
                let ms = { (t: [Double]) in products.map { t[$0] * 1000 }.reduce(0, +) }
                let chosen = runsSparse ? ms(sparse) : ms(dense)
                let best = products.map { min(dense[$0], sparse[$0]) * 1000 }.reduce(0, +)
                total.auto += chosen
                total.dense += ms(dense)
                total.best += best
                let f = { (t: [Double]) in t.map { String(format: "%.2f", $0 * 1000) }.joined(separator: "/") }
                report("sparse layer model=vgg16 density=\(density) layer=\(layer) c=\(c) o=\(o) side=\(side) "
                       + "kept=\(String(format: "%.3f", topology.density)) dense=\(algorithm) threads=\(threads) "
                       + "dense_ms=\(f(dense)) sparse_ms=\(f(sparse)) auto=\(runsSparse ? "sparse" : "dense") "
                       + "step_ms=\(String(format: "%.2f", chosen)) best_ms=\(String(format: "%.2f", best))")
            }
            report("sparse layers model=vgg16 density=\(density) threads=\(threads) conv_dense_ms=\(String(format: "%.1f", total.dense)) "
                   + "conv_auto_ms=\(String(format: "%.1f", total.auto)) conv_best_ms=\(String(format: "%.1f", total.best))")
        }
    }

    /// The model's convolutions in order, each with the side of its (square) input: the
    /// network's top-level layers walked from the input's side, a convolution mapping it as its
    /// window does and a pooling dividing it by its kernel. These benchmarks time VGG-16, whose
    /// 3×3 convolutions keep the side (padding 1) and whose 2×2 poolings halve it.
    static func convolutions(of model: Model) -> [(layer: String, side: Int)] {
        var side = model.architecture.inputShape[1]
        var result: [(layer: String, side: Int)] = []
        for (name, layer) in model.network.children {
            if let conv = layer as? Conv2d {
                result.append((name, side))
                side = (side + 2 * conv.padding - conv.kernel) / conv.stride + 1
            } else if let pool = layer as? MaxPool2d {
                side /= pool.kernel
            }
        }
        return result
    }
}
