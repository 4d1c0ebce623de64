import XCTest
import PrnKernel
import PrnAutograd
import PrnTestSupport
@testable import PrnNN

/// Gradients of every layer against finite differences, through the same binding path a model
/// uses (parameters as leaves, prunable weights multiplied by their masks).
final class LayerTests: XCTestCase {
    /// Fresh tensors for a layer's slots, drawn with the default initializer.
    func freshSlots(_ layer: Layer, seed: UInt64) -> [(path: String, slot: Slot, value: Tensor)] {
        layer.namedSlots().enumerated().map { i, entry in
            var rng = RNG(seed: seed).split(UInt64(i))
            var value = Initializer.pytorchDefault.sample(entry.slot, rng: &rng)
            // Batch-norm scales and running statistics away from their neutral values, so the
            // test sees them act.
            if case .normScale = entry.slot.initializer { value = Tensor.rand(entry.slot.shape, low: 0.5, high: 1.5, rng: &rng) }
            if case .normShift = entry.slot.initializer { value = Tensor.randn(entry.slot.shape, std: 0.3, rng: &rng) }
            if case .runningMean = entry.slot.initializer { value = Tensor.randn(entry.slot.shape, std: 0.3, rng: &rng) }
            if case .runningVariance = entry.slot.initializer { value = Tensor.rand(entry.slot.shape, low: 0.5, high: 2, rng: &rng) }
            return (entry.path, entry.slot, value)
        }
    }

    /// Checks d(⟨layer(x), r⟩)/d(x, parameters) against finite differences.
    func checkLayer(_ layer: Layer, input shape: [Int], training: Bool = true, seed: UInt64 = 1,
                    file: StaticString = #filePath, line: UInt = #line) {
        let slots = freshSlots(layer, seed: seed)
        let parameters = slots.filter { $0.slot.isParameter }
        let buffers = Dictionary(uniqueKeysWithValues: slots.filter { !$0.slot.isParameter }.map { ($0.path, Variable($0.value)) })
        // Distinct, well-separated inputs keep max pooling and ReLU away from their kinks.
        let count = shape.reduce(1, *)
        var rng = RNG(seed: seed + 7)
        let order = rng.permutation(count)
        let x = Tensor(shape: shape, scalars: order.map { Float($0) / Float(count) * 4 - 2 + 0.013 })
        var weighting: Tensor?
        GradCheck.check([x] + parameters.map(\.value), rtol: 3e-2, atol: 3e-3, h: 1e-3, file: file, line: line) { leaves in
            var values = buffers
            for (p, leaf) in zip(parameters, leaves.dropFirst()) { values[p.path] = leaf }
            let y = layer.forward(leaves[0], Scope(context: ForwardContext(values: values, training: training), prefix: ""))
            if weighting == nil { weighting = Tensor.randn(y.shape, seed: seed + 11) }
            return (y * Variable(weighting!)).sum()
        }
    }

    func testLinear() { checkLayer(Linear(5, 3), input: [4, 5]) }

    func testConvWithStrideAndPadding() {
        checkLayer(Conv2d(2, 3, kernel: 3, stride: 2, padding: 1), input: [2, 2, 5, 5])
        checkLayer(Conv2d(2, 2, kernel: 3, stride: 1, padding: 0, bias: false), input: [1, 2, 4, 5])
    }

    func testBatchNormTrainingAndEval() {
        checkLayer(BatchNorm(3), input: [5, 3], training: true)
        checkLayer(BatchNorm(2), input: [3, 2, 3, 3], training: true)
        checkLayer(BatchNorm(2), input: [3, 2, 3, 3], training: false)
    }

    func testPooling() {
        checkLayer(MaxPool2d(2), input: [2, 2, 4, 4])
        checkLayer(AvgPool2d(2), input: [2, 2, 4, 6])
        checkLayer(GlobalAvgPool(), input: [2, 3, 3, 3])
    }

    /// Each block's first batch norm runs fused with its ReLU.
    func testResidualBlocks() {
        checkLayer(ResidualBlock(2, 2, stride: 1), input: [2, 2, 4, 4])
        checkLayer(ResidualBlock(2, 3, stride: 2), input: [2, 2, 4, 4])
    }

    func testBatchNormRunningStatisticsFollowPyTorch() {
        let bn = BatchNorm(2)
        let x = Tensor.randn([4, 2, 3, 3], seed: 3)
        let mean0 = Tensor.randn([2], seed: 4), var0 = Tensor.rand([2], low: 0.5, high: 2, seed: 5)
        let context = ForwardContext(values: ["weight": Variable(Tensor.ones([2])), "bias": Variable(Tensor.zeros([2])),
                                              "running_mean": Variable(mean0), "running_var": Variable(var0)], training: true)
        _ = bn.forward(Variable(x), Scope(context: context, prefix: ""))
        for c in 0..<2 {
            var values: [Double] = []
            for n in 0..<4 { for i in 0..<9 { values.append(Double(x.scalars[(n * 2 + c) * 9 + i])) } }
            let mean = values.reduce(0, +) / 36
            let unbiased = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 35
            XCTAssertEqual(Double(context.bufferUpdates["running_mean"]!.scalars[c]), 0.9 * Double(mean0.scalars[c]) + 0.1 * mean, accuracy: 1e-5)
            XCTAssertEqual(Double(context.bufferUpdates["running_var"]!.scalars[c]), 0.9 * Double(var0.scalars[c]) + 0.1 * unbiased, accuracy: 1e-5)
        }
    }
}
