import XCTest
import PrnData
@testable import PrnKernel
@testable import PrnNN

/// Training end to end at sizes where every parallel path runs (threaded GEMMs, convolution
/// groups on several threads, the threaded optimizer step): the weights after a few hundred
/// steps must be bit-identical on 1 and 2 threads (README: "results are bit-identical on 1 and 2
/// threads"). The threaded paths are checked to be taken, so the test cannot pass by running
/// serially both times.
final class DeterminismTests: XCTestCase {
    private func trainOnOneAndTwoThreads(_ model: Model, data: Dataset, epochs: Int, batch: Int) throws -> (TrainResult, TrainResult) {
        var config = TrainConfig()
        config.epochs = epochs
        config.batchSize = batch
        config.seed = 5
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = try Trainer.train(model, data: data, config: config)
        Parallel.threads = 2
        let two = try Trainer.train(model, data: data, config: config)
        return (one, two)
    }

    private func assertBitIdentical(_ a: Model, _ b: Model, _ before: Model, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(a.state.keys), Set(b.state.keys), file: file, line: line)
        for (path, x) in a.state.sorted(by: { $0.key < $1.key }) {
            guard let y = b.state[path] else { continue }
            XCTAssertEqual(x.shape, y.shape, path, file: file, line: line)
            let differing = zip(x.scalars, y.scalars).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(differing, 0, "\(path): \(differing) of \(x.count) values differ between 1 and 2 threads", file: file, line: line)
        }
        // Training moved the weights, so equal results are not equal starting points.
        XCTAssertNotEqual(a.state.first { $0.key.hasSuffix("weight") }?.value, before.state.first { $0.key.hasSuffix("weight") }?.value,
                          file: file, line: line)
    }

    /// LeNet-300-100 at batch 64: 300 Adam steps.
    func testLeNet300IsBitIdenticalOnOneAndTwoThreads() throws {
        let data = try Dataset.load(.synthetic(SyntheticSpec(classes: 10, shape: [1, 28, 28], train: 6400, test: 100, seed: 1)))
        let model = try Model(Architecture(name: .lenet300, inputShape: [1, 28, 28], classes: 10), seed: 2)
        // The first layer's GEMMs (forward, both gradients) and the optimizer step on fc1 split
        // across 2 threads at these sizes.
        for (m, n, k) in [(64, 300, 784), (64, 784, 300), (784, 300, 64)] {
            XCTAssertEqual(GEMM.workerCount(m: m, n: n, k: k, requested: 2), 2, "GEMM \(m)×\(n)×\(k) runs on 1 thread")
        }
        let (one, two) = try trainOnOneAndTwoThreads(model, data: data, epochs: 3, batch: 64)
        XCTAssertEqual(one.history.count, 3)
        assertBitIdentical(one.model, two.model, model)
        XCTAssertEqual(one.history.map(\.trainLoss), two.history.map(\.trainLoss))
        XCTAssertEqual(one.history.map(\.testLoss), two.history.map(\.testLoss))
    }

    /// LeNet-300-100 with random masks at density 0.25 on the sparse kernels (`SparseMode.on`):
    /// fc1's sparse products have enough multiply-adds to split across threads.
    func testMaskedLeNet300OnSparseKernelsIsBitIdenticalOnOneAndTwoThreads() throws {
        let data = try Dataset.load(.synthetic(SyntheticSpec(classes: 10, shape: [1, 28, 28], train: 3200, test: 100, seed: 1)))
        let dense = try Model(Architecture(name: .lenet300, inputShape: [1, 28, 28], classes: 10), seed: 2)
        var rng = RNG(seed: 9)
        var masks: [String: Tensor] = [:]
        for path in dense.prunablePaths {
            let shape = dense.state[path]!.shape
            masks[path] = Tensor(shape: shape, scalars: rng.bernoulli(0.25, count: Shape.count(shape)))
        }
        let model = dense.withMasks(masks)
        XCTAssertGreaterThanOrEqual(64 * Int(masks["fc1.weight"]!.sum().item), GEMM.parallelThreshold,
                                    "fc1's sparse product is below the threshold for threads")
        let (one, two) = try SparseMode.with(.on) { try trainOnOneAndTwoThreads(model, data: data, epochs: 3, batch: 64) }
        assertBitIdentical(one.model, two.model, model)
        XCTAssertEqual(one.model.masks, model.masks, "training keeps the masks")
        XCTAssertEqual(one.history.map(\.testLoss), two.history.map(\.testLoss))
    }

    /// A residual conv net with batch norm (ResNet-20 at half width on 16×16 images), batch 64.
    func testConvNetWithBatchNormIsBitIdenticalOnOneAndTwoThreads() throws {
        let data = try Dataset.load(.synthetic(SyntheticSpec(classes: 10, shape: [3, 16, 16], train: 384, test: 64, seed: 3)))
        let model = try Model(Architecture(name: .resnet20, inputShape: [3, 16, 16], classes: 10, width: 0.5), seed: 4)
        XCTAssertTrue(model.state.keys.contains { $0.hasSuffix("running_mean") }, "the model has batch norm")
        // The first convolution's batch splits into several groups, which run on both threads.
        let geometry = ConvGeometry.validated(input: [64, 3, 16, 16], weight: [8, 3, 3, 3], stride: 1, padding: 1)
        XCTAssertGreaterThan((64 + geometry.groupSize - 1) / geometry.groupSize, 1, "one group: no parallel convolution")
        let (one, two) = try trainOnOneAndTwoThreads(model, data: data, epochs: 3, batch: 64)
        assertBitIdentical(one.model, two.model, model)
        XCTAssertEqual(one.history.map(\.testLoss), two.history.map(\.testLoss))
    }
}
