import Foundation
import PrnKernel
import PrnData
import PrnNN

extension Commands {
    /// Training and evaluation.
    static let training: [Command] = [
        Command("train", summary: "Train a copy of a model with cross-entropy; returns a result (r.model, r.test_acc, r.history).",
                example: "r = train m data=d epochs=10 optimizer=adam lr=0.001 batch=64") { p in
            let model = p.positional("model", ModelValue.self, type: .modelOrResult,
                                     help: "the model to train (unchanged; the result holds the trained copy)")
            let data = p.keyword("data", DatasetValue.self, help: "the data set")
            let epochs = p.keyword("epochs", default: 10, type: .int(0...100_000), help: "passes over the training split")
            let batch = p.keyword("batch", default: 64, type: .int(1...65_536), help: "examples per step")
            let optimizer = p.keyword("optimizer", default: TrainConfig.OptimizerKind.adam, help: "the update rule")
            let lr = p.keyword("lr", default: Positive(0.001), help: "learning rate")
            let momentum = p.keyword("momentum", default: Fraction(0), help: "SGD momentum")
            let nesterov = p.keyword("nesterov", default: false, help: "Nesterov momentum for SGD")
            let wd = p.keyword("wd", default: 0.0, help: "L2 weight decay")
            let schedule = p.keyword("schedule", default: Schedule.Kind.constant, help: "learning-rate schedule")
            let milestones = p.keyword("milestones", [Int]?.self, type: .sizes, help: "multistep: epochs where the rate drops")
            let every = p.keyword("every", default: 30, type: .int(1...100_000), help: "step: epochs between drops")
            let gamma = p.keyword("gamma", default: Positive(0.1), help: "step/multistep: factor per drop")
            let augment = p.keyword("augment", default: true, help: "use the data set's augmentation (CIFAR: crop + flip)")
            let sparse = p.keyword("sparse", SparseMode?.self,
                                   help: "masked layers on sparse kernels: auto (by density), on or off; same numbers either way (default: set sparse)")
            let checkpoint = p.keyword("checkpoint", String?.self,
                                       help: "a folder: save the state and keep= snapshots after each epoch; run again, resume after the last one")
            let keep = p.keyword("keep", [Int]?.self, type: .epochs,
                                 help: "epochs whose weights the result keeps for `rewind … to=r epoch=K` (0: before training)")
            let from = p.keyword("from", default: 0, type: .int(0...100_000),
                                 help: "start at this epoch: schedule and data order resume there (a rewound ticket retrains from K)")
            let seed = p.seed()
            return { args, interpreter in
                let model = args[model].model, data = args[data].dataset
                try checkFits(model, data, args)
                var config = TrainConfig()
                config.epochs = args[epochs]
                config.batchSize = args[batch]
                config.optimizer = args[optimizer]
                config.learningRate = Float(args[lr].value)
                config.momentum = Float(args[momentum].value)
                config.nesterov = args[nesterov]
                config.weightDecay = Float(args[wd])
                config.augment = args[augment]
                config.seed = interpreter.seed(args[seed], at: args.call)
                config.keep = Set(args[keep] ?? [])
                config.startEpoch = args[from]
                guard config.startEpoch <= config.epochs else {
                    throw args.error("from=\(config.startEpoch) is after the last epoch (epochs=\(config.epochs))", at: from)
                }
                let gamma = Float(args[gamma].value)
                switch args[schedule] {
                case .constant: config.schedule = .constant
                case .step: config.schedule = .step(every: args[every], gamma: gamma)
                case .multistep:
                    guard let milestones = args[milestones] else {
                        throw args.error("schedule=multistep needs milestones=[…]", at: schedule)
                    }
                    config.schedule = .multiStep(milestones: milestones, gamma: gamma)
                case .cosine: config.schedule = .cosine(epochs: config.epochs)
                }
                let saving = interpreter.trainCheckpoint(folder: args[checkpoint].map(expandTilde), at: args.call,
                                                         model: model, data: data, config: config)
                let saved = try saving?.load()
                if let saved, let saving { interpreter.emit("resuming from \(saving.directory) after epoch \(saved.epochsDone)") }
                let bar = ProgressBar(interpreter: interpreter)
                let result = try SparseMode.with(args[sparse] ?? SparseMode.current) {
                    try Trainer.train(model, data: data, config: config, checkpoint: saving, resumeFrom: saved,
                                      shouldStop: { Interrupt.requested }, progress: bar.update)
                }
                bar.finish(interrupted: result.interrupted)
                return .object(TrainResultValue(result: result))
            }
        },
        Command("eval", summary: "Accuracy and loss of a model on a split, in eval mode.",
                example: "e = eval r data=d") { p in
            let model = p.positional("model", ModelValue.self, type: .modelOrResult, help: "the model (or a training result)")
            let data = p.keyword("data", DatasetValue.self, help: "the data set")
            let split = p.keyword("split", default: SplitName.test, help: "the split to measure")
            return { args, _ in
                let model = args[model].model, data = args[data].dataset
                try checkFits(model, data, args)
                let chosen: DataSplit
                switch args[split] {
                case .train: chosen = data.train
                case .val:
                    guard let v = data.validation else { throw args.error("the data has no validation split; load it with val=N", at: split) }
                    chosen = v
                case .test: chosen = data.test
                }
                let (loss, accuracy) = Trainer.evaluate(model, on: chosen)
                return .object(EvaluationValue(accuracy: accuracy, loss: loss, count: chosen.count, split: args[split].rawValue))
            }
        },
    ]

    /// Whether output shows wall-clock numbers (`set timing off` makes logs diffable).
    static let timing: [Command] = [
        Command("set timing", summary: "Show or hide wall-clock numbers (seconds, samples/s) in training output, for diffable logs.",
                example: "set timing off") { p in
            let state = p.positional("state", Switch.self, help: "whether timing is shown (on when prn starts)")
            return { args, _ in
                ProgressBar.showsTiming = args[state] == .on
                return .none
            }
        },
    ]

    /// A model and a data set must agree on the example shape and class count.
    static func checkFits(_ model: Model, _ data: Dataset, _ args: Arguments) throws {
        let a = model.architecture
        guard a.inputShape == data.inputShape, a.classes == data.classes else {
            throw args.error("the model expects inputs \(a.inputShape) and \(a.classes) classes, but \(data.name) has "
                             + "\(data.inputShape) and \(data.classes); build it with `model \(a.name) data=…`", at: "data")
        }
    }
}

/// The split `eval` measures, as users name it.
enum SplitName: String, ChoiceArgument { case test, train, val }

/// A setting turned `on` or `off`.
enum Switch: String, ChoiceArgument { case on, off }

extension TrainConfig.OptimizerKind: ChoiceArgument {}
extension Schedule.Kind: ChoiceArgument {}
extension SparseMode: ChoiceArgument {}

/// Training progress: a live bar on a terminal (epoch, batch, loss, accuracy, samples/s, ETA),
/// rewritten in place on standard error; one plain line per finished epoch through the
/// interpreter's output, so scripts and notebooks record it.
final class ProgressBar {
    private let interpreter: Interpreter
    private let live = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["CI"] == nil
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(interpreter: Interpreter) { self.interpreter = interpreter }

    /// `set timing off` turns this off.
    nonisolated(unsafe) static var showsTiming = true

    func update(_ p: TrainProgress) {
        if let epoch = p.finishedEpoch {
            clear()
            var line = String(format: "epoch %d/%d  loss %.4f  acc %.4f  test_loss %.4f  test_acc %.4f",
                              epoch.epoch, p.epochs, epoch.trainLoss, epoch.trainAccuracy, epoch.testLoss, epoch.testAccuracy)
            if ProgressBar.showsTiming { line += String(format: "  %.0f samples/s  %.1f s", p.samplesPerSecond, epoch.seconds) }
            interpreter.emit(line)
            return
        }
        guard live, Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        let width = 24
        let filled = Int(Double(width) * Double(p.batch) / Double(Swift.max(p.batches, 1)))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = String(format: "epoch %d/%d %@ %d/%d  loss %.4f  acc %.4f  %.0f/s  ETA %@",
                          p.epoch, p.epochs, bar, p.batch, p.batches, p.loss, p.accuracy, p.samplesPerSecond,
                          ProgressBar.clock(p.remaining))
        FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8))
        drawn = true
    }

    func finish(interrupted: Bool) {
        clear()
        if interrupted { interpreter.emit("training interrupted; the result holds the model as of the last finished step") }
    }

    private func clear() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

extension ParamType {
    /// Epoch numbers, `[0, 1, 160]`: 0 is before training.
    static let epochs = ParamType("epochs", "[INT, …]") { value in
        guard case .list(let items) = value, !items.isEmpty,
              items.allSatisfy({ if case .int(let i) = $0 { return i >= 0 } else { return false } }) else {
            throw mismatch("a list of epoch numbers (integers ≥ 0)", value)
        }
        return value
    }
}
