import XCTest
import PrnKernel
import PrnAutograd
import PrnData
@testable import PrnNN

/// Training on the sparse path gives the dense path's numbers: the same loss, gradients and
/// optimizer step, bit for bit (up to the sign of a zero), on one and two threads.
final class SparseTrainingTests: XCTestCase {
    /// A fully connected net and a small VGG (convolutions without bias, batch norm), each with
    /// random masks at `density`; one layer keeps nothing.
    func models(density: Double) throws -> [(Model, Batch)] {
        let mlp = try Model(Architecture(name: .mlp, inputShape: [12], classes: 3, hidden: [40, 20]), seed: 2)
        let vgg = try Model(Architecture(name: .vgg11, inputShape: [3, 16, 16], classes: 4, width: 0.0625), seed: 3)
        let pairs = [(mlp, try batch(9, [12], classes: 3)), (vgg, try batch(5, [3, 16, 16], classes: 4))]
        return pairs.enumerated().map { k, pair in
            var rng = RNG(seed: UInt64(k + 10))
            var masks: [String: Tensor] = [:]
            for (i, path) in pair.0.prunablePaths.enumerated() {
                let shape = pair.0.state[path]!.shape
                let keep = i == 1 ? 0 : density
                masks[path] = Tensor(shape: shape, scalars: rng.uniform(count: Shape.count(shape)).map { Double($0) < keep ? 1 : 0 })
            }
            return (pair.0.withMasks(masks), pair.1)
        }
    }

    func batch(_ n: Int, _ shape: [Int], classes: Int) throws -> Batch {
        let data = try Dataset.load(.synthetic(SyntheticSpec(classes: classes, shape: shape, train: n, test: n, seed: 1)))
        return try data.train.batches(size: n, seed: 0, epoch: 0, augmentation: nil)[0]
    }

    func testGradientStepAndOptimizerStepMatchDense() throws {
        for density in [0.05, 0.5] {
            for (model, batch) in try models(density: density) {
                let name = "\(model.architecture.name) at density \(density)"
                let dense = SparseMode.with(.off) { step(model, batch) }
                let sparse = SparseMode.with(.on) { step(model, batch) }
                XCTAssertEqual(sparse.loss.bitPattern, dense.loss.bitPattern, "loss, \(name)")
                for path in model.parameterPaths {
                    // A masked weight trains compact on the sparse path: its gradient is the
                    // dense gradient's kept entries.
                    let denseGradient = model.masks[path].map { SparseTopology(mask: $0).compact(dense.gradients[path]!) }
                    assertSameBits(sparse.gradients[path]!, denseGradient ?? dense.gradients[path]!, "gradient of \(path), \(name)")
                    assertSameBits(sparse.stepped[path]!, dense.stepped[path]!, "\(path) after one SGD step, \(name)")
                }
                let evalDense = SparseMode.with(.off) { model.predict(batch.images) }
                assertSameBits(SparseMode.with(.on) { model.predict(batch.images) }, evalDense, "eval, \(name)")
            }
        }
    }

    func testSparseStepBitIdenticalOnOneAndTwoThreads() throws {
        let (model, batch) = try models(density: 0.3)[1]
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = SparseMode.with(.on) { step(model, batch) }
        Parallel.threads = 2
        let two = SparseMode.with(.on) { step(model, batch) }
        XCTAssertEqual(one.loss.bitPattern, two.loss.bitPattern)
        for path in model.parameterPaths { assertSameBits(one.gradients[path]!, two.gradients[path]!, path) }
    }

    func testAutoFollowsTheRule() throws {
        let (model, batch) = try models(density: 0.05)[0]
        let context = SparseMode.with(.auto) { model.forward(Variable(batch.images), training: false).context }
        for path in model.prunablePaths {
            let density = Double(model.masks[path]!.sum().item) / Double(model.masks[path]!.count)
            XCTAssertEqual(context.sparse[path] != nil,
                           SparseSelection.runsSparse(shape: model.masks[path]!.shape, density: density, mode: .auto), path)
        }
        XCTAssertTrue(SparseMode.with(.off) { model.forward(Variable(batch.images), training: false).context.sparse.isEmpty })
    }

    /// The linear rule's boundaries by layer size: up to 1,024 weights at any kept fraction, up
    /// to 32,768 at 0.4, larger at 0.2; each exactly at its crossover, not one step above.
    func testLinearCrossoverFollowsTheLayerSize() {
        XCTAssertTrue(SparseSelection.runsSparse(shape: [10, 100], density: 1, mode: .auto))
        XCTAssertTrue(SparseSelection.runsSparse(shape: [32, 32], density: 1, mode: .auto))
        for (shape, crossover) in [([1, 1025], 0.4), ([100, 300], 0.4), ([128, 256], 0.4), ([1, 32769], 0.2), ([300, 784], 0.2)] {
            XCTAssertEqual(SparseSelection.linearCrossover(shape), crossover, "\(shape)")
            XCTAssertTrue(SparseSelection.runsSparse(shape: shape, density: crossover, mode: .auto), "\(shape)")
            XCTAssertFalse(SparseSelection.runsSparse(shape: shape, density: crossover.nextUp, mode: .auto), "\(shape)")
            XCTAssertFalse(SparseSelection.runsSparse(shape: shape, density: 0.01, mode: .off), "\(shape)")
        }
    }

    /// The rule's boundaries: a convolution runs sparse at exactly the crossover of the algorithm
    /// its dense form would use, not one step above; `on` and `off` ignore the density.
    func testConvolutionCrossoverIsThatOfItsDenseAlgorithm() {
        let cases: [(input: [Int], weight: [Int], algorithm: ConvAlgorithm)] = [
            ([1, 64, 32, 32], [64, 64, 3, 3], .direct),          // one sample: too few outputs for Winograd
            ([2, 64, 32, 32], [64, 64, 3, 3], .winograd4x4),
            ([128, 512, 3, 3], [512, 512, 3, 3], .winograd2x2),
            ([128, 512, 2, 2], [512, 512, 3, 3], .winograd2x2),
            ([128, 128, 2, 2], [128, 128, 3, 3], .sliding),
            ([128, 16, 32, 32], [16, 16, 3, 3], .sliding),
        ]
        for c in cases {
            XCTAssertEqual(ConvAlgorithm.chosen(input: c.input, weight: c.weight, stride: 1, padding: 1), c.algorithm, "\(c.input)")
            let crossover = SparseSelection.convCrossover(c.algorithm)
            func runs(_ density: Double, _ mode: SparseMode) -> Bool {
                SparseSelection.convolutionRunsSparse(input: c.input, weight: c.weight, stride: 1, padding: 1, density: density, mode: mode)
            }
            XCTAssertTrue(runs(crossover, .auto), "\(c.algorithm) at its crossover")
            XCTAssertFalse(runs(crossover.nextUp, .auto), "\(c.algorithm) above its crossover")
            XCTAssertTrue(runs(1, .on))
            XCTAssertFalse(runs(0, .off))
            // Every convolution that may run sparse gets its topology (and trains compact).
            XCTAssertTrue(SparseSelection.runsSparse(shape: c.weight, density: crossover, mode: .auto))
        }
        XCTAssertLessThan(SparseSelection.convCrossover(.winograd4x4), SparseSelection.convCrossover(.direct))
        XCTAssertFalse(SparseSelection.runsSparse(shape: [64, 64, 3, 3], density: SparseSelection.convCrossover(.direct).nextUp, mode: .auto))
    }

    /// A convolution the dense path runs by Winograd F(4×4) (conv2 of `conv2`: 64 → 64 channels on
    /// 32 × 32, two samples), masked between F(4×4)'s crossover and im2col's: `auto` binds it
    /// compact but runs it dense, so the step is the dense path's bit for bit, which the sparse
    /// kernels (im2col's order) are not; below F(4×4)'s crossover `auto` runs it sparse.
    func testWinogradLayerRunsDenseAboveItsCrossover() throws {
        let model = try Model(Architecture(name: .conv2, inputShape: [1, 32, 32], classes: 3), seed: 4)
        let batch = try batch(2, [1, 32, 32], classes: 3)
        for (density, sparseUnderAuto) in [(0.3, false), (0.15, true)] {
            var rng = RNG(seed: 21)
            let shape = model.state["conv2.weight"]!.shape
            let masked = model.withMasks(["conv2.weight": Tensor(shape: shape, scalars: rng.uniform(count: Shape.count(shape))
                .map { Double($0) < density ? 1 : 0 })])
            let auto = SparseMode.with(.auto) { step(masked, batch) }
            let reference = SparseMode.with(sparseUnderAuto ? .on : .off) { step(masked, batch) }
            let other = SparseMode.with(sparseUnderAuto ? .off : .on) { step(masked, batch) }
            let topology = SparseTopology(mask: masked.masks["conv2.weight"]!)
            XCTAssertEqual(auto.gradients["conv2.weight"]!.shape, [topology.count], "trains compact at \(density)")
            let compactReference = reference.gradients["conv2.weight"]!.shape == [topology.count]
                ? reference.gradients["conv2.weight"]! : topology.compact(reference.gradients["conv2.weight"]!)
            assertSameBits(auto.gradients["conv2.weight"]!, compactReference, "conv2 gradient at \(density)")
            XCTAssertEqual(auto.loss.bitPattern, reference.loss.bitPattern, "loss at \(density)")
            for path in masked.parameterPaths { assertSameBits(auto.stepped[path]!, reference.stepped[path]!, "\(path) at \(density)") }
            XCTAssertNotEqual(auto.loss.bitPattern, other.loss.bitPattern, "Winograd and im2col orders differ at \(density)")
        }
    }

    /// With kept positions, both optimizers update exactly those entries as a full update would,
    /// leave every pruned weight as it was, and keep compact moments: the full update's at the
    /// kept positions, none for pruned weights.
    func testOptimizersUpdateKeptEntriesOnly() throws {
        let (model, batch) = try models(density: 0.3)[0]
        // Dense gradients (the sparse path hands over compact ones; see below).
        let gradients = SparseMode.with(.off) { Trainer.gradientStep(model, batch: batch, parameterPaths: model.parameterPaths).gradients }
        let optimizers: [() -> Optimizer] = [{ SGD(momentum: 0.9, weightDecay: 0.01) }, { Adam(weightDecay: 0.01) }]
        // The same gradients compact (kept entries only), as the sparse path hands them over.
        var compactGradients = gradients
        for (path, mask) in model.masks { compactGradients[path] = SparseTopology(mask: mask).compact(gradients[path]!) }
        for make in optimizers {
            var full = make(), kept = make(), compact = make()
            var fullState = model.state, keptState = model.state, compactState = model.state
            for _ in 0..<2 {
                full.step(&fullState, gradients: gradients, learningRate: 0.1)
                kept.step(&keptState, gradients: gradients, learningRate: 0.1, kept: model.keptPositions)
                compact.step(&compactState, gradients: compactGradients, learningRate: 0.1, kept: model.keptPositions)
            }
            for path in model.parameterPaths {
                assertSameBits(compactState[path]!, keptState[path]!, "\(type(of: full)) \(path) from compact gradients")
            }
            for path in model.parameterPaths {
                let mask = model.masks[path]?.scalars ?? [Float](repeating: 1, count: model.state[path]!.count)
                for (i, m) in mask.enumerated() {
                    let want = m != 0 ? fullState[path]!.scalars[i] : model.state[path]!.scalars[i]
                    XCTAssertEqual(keptState[path]!.scalars[i].bitPattern, want.bitPattern, "\(type(of: full)) \(path)[\(i)]")
                }
                let topology = model.masks[path].map { SparseTopology(mask: $0) }
                for (b, buffer) in kept.state[path]!.buffers.enumerated() {
                    let fullBuffer = Tensor(shape: model.state[path]!.shape, scalars: full.state[path]!.buffers[b])
                    let want = topology.map { $0.gather(fullBuffer) } ?? fullBuffer.scalars
                    XCTAssertEqual(buffer.map(\.bitPattern), want.map(\.bitPattern), "\(type(of: full)) \(path) moments \(b)")
                }
            }
        }
    }

    /// Adam over the kept positions of a layer large enough for both threads (70k kept of a
    /// 300 × 784 weight, dense and compact gradients): the full update's values at the kept
    /// positions, the others untouched, the same bits on 1 and 2 threads.
    func testAdamOnKeptPositionsSplitsAcrossThreads() {
        let shape = [300, 784]
        var rng = RNG(seed: 31)
        let mask = Tensor(shape: shape, scalars: rng.uniform(count: 300 * 784).map { $0 < 0.3 ? 1 : 0 })
        let topology = SparseTopology(mask: mask)
        let weight = Tensor.randn(shape, seed: 32), gradient = Tensor.randn(shape, seed: 33)
        func run(threads: Int, kept: Bool, compact: Bool = false) -> Tensor {
            let saved = Parallel.threads
            Parallel.threads = threads
            defer { Parallel.threads = saved }
            var adam = Adam(weightDecay: 0.01)
            var state = ["w": weight]
            let g = compact ? topology.compact(gradient) : gradient
            for _ in 0..<2 {
                adam.step(&state, gradients: ["w": g], learningRate: 0.1, kept: kept ? ["w": topology.positions] : [:])
            }
            return state["w"]!
        }
        let full = run(threads: 1, kept: false)
        let want = Tensor(shape: shape, scalars: (0..<full.count).map { mask.scalars[$0] != 0 ? full.scalars[$0] : weight.scalars[$0] })
        for threads in [1, 2] {
            assertSameBits(run(threads: threads, kept: true), want, "dense gradient, \(threads) threads")
            assertSameBits(run(threads: threads, kept: true, compact: true), want, "compact gradient, \(threads) threads")
        }
    }

    /// Moments restored dense (a checkpoint written before moments were compact) are read and
    /// updated at the kept positions: the same weights and moments as compact ones, for a layer
    /// of 70k kept weights (the vector runs and the scalar tail) and one of 3.
    func testKeptUpdateReadsDenseMomentsAtPositions() {
        for (shape, density) in [([300, 784], 0.3), ([5, 7], 0.1)] {
            var rng = RNG(seed: 41)
            let count = shape[0] * shape[1]
            let mask = Tensor(shape: shape, scalars: rng.uniform(count: count).map { Double($0) < density ? 1 : 0 })
            let topology = SparseTopology(mask: mask)
            let weight = Tensor.randn(shape, seed: 42), gradient = topology.compact(Tensor.randn(shape, seed: 43))
            let optimizers: [() -> Optimizer] = [{ SGD(momentum: 0.9, weightDecay: 0.01) }, { Adam(weightDecay: 0.01) }]
            for make in optimizers {
                var compact = make(), dense = make()
                dense.restore(["w": [[Float]](repeating: [Float](repeating: 0, count: count), count: type(of: dense).bufferCount)], steps: 0)
                var compactState = ["w": weight], denseState = ["w": weight]
                for _ in 0..<2 {
                    compact.step(&compactState, gradients: ["w": gradient], learningRate: 0.1, kept: ["w": topology.positions])
                    dense.step(&denseState, gradients: ["w": gradient], learningRate: 0.1, kept: ["w": topology.positions])
                }
                let name = "\(type(of: dense)) \(shape)"
                XCTAssertEqual(compact.state["w"]!.buffers[0].count, topology.count, name)
                assertSameBits(denseState["w"]!, compactState["w"]!, name)
                for (b, buffer) in dense.state["w"]!.buffers.enumerated() {
                    XCTAssertEqual(buffer.count, count, name)
                    XCTAssertEqual(topology.gather(Tensor(shape: shape, scalars: buffer)).map(\.bitPattern),
                                   compact.state["w"]!.buffers[b].map(\.bitPattern), "\(name) moments \(b)")
                }
            }
        }
    }

    /// Loss, gradients, and the parameters after one SGD step with momentum and weight decay.
    /// Whole trainings (two epochs of three steps, Adam and SGD with momentum and weight decay),
    /// in which the sparse weights stay compact from step to step (`CompactWeights`) and go back
    /// into the model at each epoch's end: the same history and final weights, pruned entries
    /// included, as the dense path; also when a training stops early, mid-epoch.
    func testTrainingsMatchDenseWithCompactWeightsAcrossSteps() throws {
        for (model, _) in try models(density: 0.05) {
            let shape = model.architecture.inputShape, classes = model.architecture.classes
            let data = try Dataset.load(.synthetic(SyntheticSpec(classes: classes, shape: shape, train: 12, test: 4, seed: 5)))
            for optimizer in TrainConfig.OptimizerKind.allCases {
                var config = TrainConfig()
                (config.epochs, config.batchSize, config.optimizer, config.augment) = (2, 4, optimizer, false)
                (config.momentum, config.weightDecay, config.learningRate) = (0.9, 1e-3, 0.05)
                let name = "\(model.architecture.name), \(optimizer)"
                for stopAfter in [Int.max, 4] {
                    func train(_ mode: SparseMode) throws -> TrainResult {
                        var polls = 0
                        return try SparseMode.with(mode) {
                            try Trainer.train(model, data: data, config: config, shouldStop: { polls += 1; return polls > stopAfter })
                        }
                    }
                    let (sparse, dense) = (try train(.on), try train(.off))
                    // Every number of the history but its timings.
                    let numbers = { (r: TrainResult) in r.history.map { [$0.trainLoss, $0.trainAccuracy, $0.testLoss, $0.testAccuracy] } }
                    XCTAssertEqual(numbers(sparse), numbers(dense), "history, \(name)")
                    XCTAssertEqual(sparse.interrupted, stopAfter != Int.max)
                    for path in model.parameterPaths {
                        assertSameBits(sparse.model.state[path]!, dense.model.state[path]!, "\(path) after training, \(name), stop after \(stopAfter)")
                    }
                }
            }
        }
    }

    /// Training hands a sparse first layer its batch feature-major (`Batch.featureMajorImages`):
    /// the step must be the one in which the layer transposes the batch itself, also when it uses
    /// only a few input features (`UsedPart`: the transpose's used rows are picked).
    func testFeatureMajorBatchGivesTheSameStep() throws {
        let model = try Model(Architecture(name: .mlp, inputShape: [12], classes: 3, hidden: [40, 20]), seed: 2)
        let data = try Dataset.load(.synthetic(SyntheticSpec(classes: 3, shape: [12], train: 9, test: 3, seed: 1)))
        let plain = try data.train.batches(size: 9, seed: 0)[0]
        let transposed = try data.train.batches(size: 9, seed: 0, featureMajor: true)[0]
        XCTAssertNil(plain.featureMajorImages)
        XCTAssertEqual(transposed.featureMajorImages, plain.images.transposed())
        var rng = RNG(seed: 4)
        for usedColumns in [12, 2] {
            let masks = Dictionary(uniqueKeysWithValues: model.prunablePaths.map { path in
                let shape = model.state[path]!.shape
                let keep = rng.uniform(count: Shape.count(shape)).enumerated().map { i, u in
                    path == "fc1.weight" && i % shape[1] >= usedColumns ? 0 : Float(u < 0.3 ? 1 : 0)
                }
                return (path, Tensor(shape: shape, scalars: keep))
            })
            let masked = model.withMasks(masks)
            let (a, b) = SparseMode.with(.on) {
                XCTAssertTrue(masked.readsInputFeatureMajor)
                return (Trainer.gradientStep(masked, batch: plain, parameterPaths: masked.parameterPaths),
                        Trainer.gradientStep(masked, batch: transposed, parameterPaths: masked.parameterPaths))
            }
            XCTAssertEqual(a.loss.bitPattern, b.loss.bitPattern, "\(usedColumns) used columns")
            for path in masked.parameterPaths { assertSameBits(b.gradients[path]!, a.gradients[path]!, "\(path), \(usedColumns) used columns") }
        }
        XCTAssertFalse(SparseMode.with(.off) { model.withMasks([:]).readsInputFeatureMajor })
    }

    /// The forward pass hands the transpose only to a layer whose input is the model's input
    /// (reshaped: the same buffer), never to one reading equal values from another buffer.
    func testFeatureMajorInputGoesOnlyToTheInput() {
        let x = Tensor.randn([3, 2, 2], seed: 1)
        let flat = x.reshaped([3, 4])
        let context = ForwardContext(values: [:], training: true, inputFeatureMajor: (x, flat.transposed()))
        XCTAssertEqual(context.featureMajor(of: flat), flat.transposed())
        XCTAssertNil(context.featureMajor(of: Tensor(shape: [3, 4], scalars: flat.scalars.map { $0 })))
        XCTAssertNil(context.featureMajor(of: x.reshaped([4, 3])))
        XCTAssertNil(ForwardContext(values: [:], training: true).featureMajor(of: flat))
    }

    func step(_ model: Model, _ batch: Batch) -> (loss: Float, gradients: [String: Tensor], stepped: [String: Tensor]) {
        let result = Trainer.gradientStep(model, batch: batch, parameterPaths: model.parameterPaths)
        var state = model.state
        var sgd = SGD(momentum: 0.9, weightDecay: 1e-3)
        sgd.step(&state, gradients: result.gradients, learningRate: 0.1, kept: model.keptPositions)
        return (result.loss, result.gradients, state)
    }

    func assertSameBits(_ a: Tensor, _ b: Tensor, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, message, file: file, line: line)
        let differs = { (x: Float, y: Float) -> Bool in x.bitPattern != y.bitPattern && !(x == 0 && y == 0) }
        if let i = a.scalars.indices.first(where: { differs(a.scalars[$0], b.scalars[$0]) }) {
            XCTFail("\(message): element \(i) is \(a.scalars[i]), dense gives \(b.scalars[i])", file: file, line: line)
        }
    }
}
