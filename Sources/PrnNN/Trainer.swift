import Foundation
import PrnKernel
import PrnAutograd
import PrnData

/// Everything `train` needs besides the model and the data.
public struct TrainConfig: Sendable {
    public enum OptimizerKind: String, Sendable, CaseIterable { case sgd, adam }

    public var epochs = 10
    public var batchSize = 64
    public var optimizer = OptimizerKind.adam
    public var learningRate: Float = 1e-3
    public var momentum: Float = 0
    public var nesterov = false
    public var weightDecay: Float = 0
    public var schedule = Schedule.constant
    /// Seeds the per-epoch shuffles and augmentation.
    public var seed: UInt64 = 0
    /// Applies the data set's augmentation (CIFAR: crop and flip) to training batches.
    public var augment = true
    /// Epochs whose weights the result keeps (`TrainResult.snapshots`): k is the model after k
    /// epochs, 0 the model before training. Lottery-ticket rewinding resets to one of these.
    public var keep: Set<Int> = []
    /// The first epoch to run (from 0): the learning-rate schedule and the data order resume at
    /// this epoch, as when a rewound ticket retrains from epoch K to the end.
    public var startEpoch = 0

    public init() {}

    func makeOptimizer() -> Optimizer {
        switch optimizer {
        case .sgd: return SGD(momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
        case .adam: return Adam(weightDecay: weightDecay)
        }
    }
}

/// One epoch's numbers.
public struct EpochRecord: Sendable, Equatable {
    public var epoch: Int
    public var learningRate: Float
    public var trainLoss: Double, trainAccuracy: Double
    public var testLoss: Double, testAccuracy: Double
    public var seconds: Double
}

/// Where training is, for progress displays.
public struct TrainProgress: Sendable {
    public var epoch: Int, epochs: Int, batch: Int, batches: Int
    /// Running means over the epoch so far.
    public var loss: Double, accuracy: Double
    public var samplesPerSecond: Double
    /// Seconds since training started, and the estimate of those left.
    public var elapsed: Double, remaining: Double
    /// Set on the last batch of an epoch, once the test split is evaluated.
    public var finishedEpoch: EpochRecord?
}

/// What `train` returns: the trained model and its history.
public struct TrainResult {
    public var model: Model
    public var history: [EpochRecord]
    /// True when stopped early by the user; `model` is as of the last finished step.
    public var interrupted: Bool
    public var seconds: Double
    public var samplesPerSecond: Double
    /// The models at the epochs `TrainConfig.keep` asked for, by epoch.
    public var snapshots: [Int: Model] = [:]
    public var testAccuracy: Double { history.last?.testAccuracy ?? .nan }
    public var testLoss: Double { history.last?.testLoss ?? .nan }
    public var trainLoss: Double { history.last?.trainLoss ?? .nan }
    public var trainAccuracy: Double { history.last?.trainAccuracy ?? .nan }
}

/// A loss that is NaN or infinite: training stops and says where.
public struct DivergenceError: Error, CustomStringConvertible {
    public let epoch: Int, batch: Int, loss: Float
    public var description: String {
        "diverged: loss is \(loss) at epoch \(epoch), batch \(batch); try a lower learning rate"
    }
}

/// Mini-batch training with cross-entropy.
public enum Trainer {
    /// Trains a copy of `model`; the input value is unchanged. `shouldStop` is polled before each
    /// batch (Ctrl-C); `progress` is called after each batch. With a `checkpoint`, the state is
    /// saved after each epoch; `resumeFrom` (a checkpoint's state) continues after its last epoch.
    public static func train(_ model: Model, data: Dataset, config: TrainConfig,
                             checkpoint: TrainCheckpoint? = nil, resumeFrom saved: TrainState? = nil,
                             shouldStop: () -> Bool = { false },
                             progress: (TrainProgress) -> Void = { _ in }) throws -> TrainResult {
        var current = model
        var optimizer = config.makeOptimizer()
        let parameterPaths = current.parameterPaths
        var history: [EpochRecord] = []
        var snapshots: [Int: Model] = [:]
        if let saved {
            current.state = saved.state
            optimizer.restore(saved.optimizerState, steps: saved.optimizerSteps)
            history = saved.history
            for (epoch, state) in saved.snapshots {
                var snapshot = current
                snapshot.state = state
                snapshots[epoch] = snapshot
            }
        }
        let start = Date()
        var samples = 0
        let batchesPerEpoch = (data.train.count + config.batchSize - 1) / config.batchSize
        // A resumed training goes on after the epochs its checkpoint holds, whose snapshots
        // came back with it.
        let first = Swift.min(config.startEpoch + history.count, config.epochs)
        let totalBatches = batchesPerEpoch * (config.epochs - first)
        if config.keep.contains(first) && snapshots[first] == nil { snapshots[first] = current }
        var compact = CompactWeights(current, moments: optimizer.state)
        let featureMajor = current.readsInputFeatureMajor

        for epoch in first..<config.epochs {
            let epochStart = Date()
            let rate = config.schedule.rate(base: config.learningRate, epoch: epoch)
            let batches = try data.train.batches(size: config.batchSize, seed: config.seed, epoch: epoch,
                                                 augmentation: config.augment ? data.augmentation : nil, featureMajor: featureMajor)
            var lossSum = 0.0, correct = 0, seen = 0
            for (b, batch) in batches.enumerated() {
                if shouldStop() {
                    compact.store(into: &current)
                    return TrainResult(model: current, history: history, interrupted: true,
                                       seconds: Date().timeIntervalSince(start),
                                       samplesPerSecond: Double(samples) / Date().timeIntervalSince(start), snapshots: snapshots)
                }
                let step = gradientStep(current, batch: batch, parameterPaths: parameterPaths, compact: compact)
                let lossValue = step.loss
                guard lossValue.isFinite else { throw DivergenceError(epoch: epoch + 1, batch: b + 1, loss: lossValue) }
                compact.step(&optimizer, model: &current, gradients: step.gradients, learningRate: rate)
                for (path, t) in step.bufferUpdates { current.state[path] = t }

                lossSum += Double(lossValue) * Double(batch.labels.count)
                correct += step.correct
                seen += batch.labels.count
                samples += batch.labels.count
                let elapsed = Date().timeIntervalSince(start)
                let done = (epoch - first) * batchesPerEpoch + b + 1
                var report = TrainProgress(epoch: epoch + 1, epochs: config.epochs, batch: b + 1, batches: batches.count,
                                           loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
                                           samplesPerSecond: Double(samples) / Swift.max(elapsed, 1e-9), elapsed: elapsed,
                                           remaining: elapsed / Double(done) * Double(totalBatches - done))
                if b == batches.count - 1 {
                    compact.store(into: &current)
                    let test = evaluate(current, on: data.test)
                    let record = EpochRecord(epoch: epoch + 1, learningRate: rate, trainLoss: lossSum / Double(seen),
                                             trainAccuracy: Double(correct) / Double(seen), testLoss: test.loss,
                                             testAccuracy: test.accuracy, seconds: Date().timeIntervalSince(epochStart))
                    history.append(record)
                    report.finishedEpoch = record
                    if config.keep.contains(epoch + 1) { snapshots[epoch + 1] = current }
                }
                progress(report)
            }
            try checkpoint?.save(TrainState(state: current.state, optimizerState: optimizer.savedState,
                                            optimizerSteps: optimizer.steps, history: history,
                                            snapshots: snapshots.mapValues(\.state)))
        }
        let seconds = Date().timeIntervalSince(start)
        return TrainResult(model: current, history: history, interrupted: false, seconds: seconds,
                           samplesPerSecond: Double(samples) / Swift.max(seconds, 1e-9), snapshots: snapshots)
    }

    /// Loss, gradients and buffer updates for one batch. Every tape node is released on return,
    /// so the optimizer then owns the parameter buffers and updates them in place.
    static func gradientStep(_ model: Model, batch: Batch, parameterPaths: [String], compact: CompactWeights? = nil)
        -> (loss: Float, correct: Int, gradients: [String: Tensor], bufferUpdates: [String: Tensor]) {
        // A weight that runs sparse is bound compact (its kept values only: those `compact`
        // carries, else gathered), so its gradient comes compact too and the optimizer reads it
        // without a dense, zero-filled copy.
        let leaves = parameterPaths.map { path in
            let value = model.state[path]!
            return Variable(compact?[path] ?? model.sparseTopology(path)?.compact(value) ?? value, requiresGrad: true)
        }
        let bound = Dictionary(uniqueKeysWithValues: zip(parameterPaths, leaves))
        let (logits, context) = model.forward(Variable(batch.images), parameters: bound, training: true,
                                              inputFeatureMajor: batch.featureMajorImages)
        let loss = crossEntropy(logits, labels: batch.labels)
        let correct = zip(logits.value.argmaxLastAxis(), batch.labels).filter { $0 == $1 }.count
        guard loss.value.item.isFinite else { return (loss.value.item, correct, [:], [:]) }
        let grads = grad(of: loss, wrt: leaves, retainGraph: false)
        return (loss.value.item, correct, Dictionary(uniqueKeysWithValues: zip(parameterPaths, grads.map(\.value))),
                context.bufferUpdates)
    }

    /// Mean cross-entropy and accuracy over a split, in eval mode, with no tape.
    public static func evaluate(_ model: Model, on split: DataSplit, batchSize: Int = 1000) -> (loss: Double, accuracy: Double) {
        guard split.count > 0 else { return (.nan, .nan) }
        var lossSum = 0.0, correct = 0
        GradMode.with(enabled: false) {
            var start = 0
            while start < split.count {
                let range = start..<Swift.min(start + batchSize, split.count)
                let (images, labels) = split.gather(Array(range))
                let logits = model.forward(Variable(images), training: false).output
                lossSum += Double(crossEntropy(logits, labels: labels).value.item) * Double(labels.count)
                correct += zip(logits.value.argmaxLastAxis(), labels).filter { $0 == $1 }.count
                start = range.upperBound
            }
        }
        return (lossSum / Double(split.count), Double(correct) / Double(split.count))
    }
}
