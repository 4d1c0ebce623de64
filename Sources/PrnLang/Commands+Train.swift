import Foundation
import PrnKernel
import PrnData
import PrnNN

extension Commands {
    /// Training and evaluation.
    static let training: [Command] = [
        Command("train", summary: "Train a copy of a model with cross-entropy; returns a result (r.model, r.test_acc, r.history).",
                parameters: [
                    .positional("model", .modelOrResult, help: "the model to train (unchanged; the result holds the trained copy)"),
                    .keyword("data", .dataset, default: .required, help: "the data set"),
                    .keyword("epochs", .int(0...100_000), default: .value(.int(10)), help: "passes over the training split"),
                    .keyword("batch", .int(1...65_536), default: .value(.int(64)), help: "examples per step"),
                    .keyword("optimizer", .symbol(TrainConfig.OptimizerKind.allCases.map(\.rawValue), name: "optimizer"),
                             default: .value(.symbol("adam")), help: "adam or sgd"),
                    .keyword("lr", .positive, default: .value(.float(0.001)), help: "learning rate"),
                    .keyword("momentum", .fraction, default: .value(.float(0)), help: "SGD momentum"),
                    .keyword("nesterov", .bool, default: .value(.bool(false)), help: "Nesterov momentum for SGD"),
                    .keyword("wd", .number, default: .value(.float(0)), help: "L2 weight decay"),
                    .keyword("schedule", .symbol(["constant", "step", "multistep", "cosine"], name: "schedule"),
                             default: .value(.symbol("constant")), help: "learning-rate schedule"),
                    .keyword("milestones", .sizes, default: .absent, help: "multistep: epochs where the rate drops"),
                    .keyword("every", .int(1...100_000), default: .value(.int(30)), help: "step: epochs between drops"),
                    .keyword("gamma", .positive, default: .value(.float(0.1)), help: "step/multistep: factor per drop"),
                    .keyword("augment", .bool, default: .value(.bool(true)), help: "use the data set's augmentation (CIFAR: crop + flip)"),
                    .seed,
                ],
                example: "r = train m data=d epochs=10 optimizer=adam lr=0.001 batch=64") { args, interpreter in
            let model = try args.object(ModelValue.self, "model").model
            let data = try args.object(DatasetValue.self, "data").dataset
            try checkFits(model, data, args)
            var config = TrainConfig()
            config.epochs = try args.int("epochs")
            config.batchSize = try args.int("batch")
            config.optimizer = TrainConfig.OptimizerKind(rawValue: try args.symbol("optimizer")) ?? .adam
            config.learningRate = Float(try args.double("lr"))
            config.momentum = Float(try args.double("momentum"))
            config.nesterov = try args.bool("nesterov")
            config.weightDecay = Float(try args.double("wd"))
            config.augment = try args.bool("augment")
            config.seed = try interpreter.seed(args)
            let gamma = Float(try args.double("gamma"))
            switch try args.symbol("schedule") {
            case "step": config.schedule = .step(every: try args.int("every"), gamma: gamma)
            case "multistep":
                guard let milestones = try args.ints("milestones") else {
                    throw args.error("schedule=multistep needs milestones=[…]", at: "schedule")
                }
                config.schedule = .multiStep(milestones: milestones, gamma: gamma)
            case "cosine": config.schedule = .cosine(epochs: config.epochs)
            default: config.schedule = .constant
            }
            let bar = ProgressBar(interpreter: interpreter)
            let result = try Trainer.train(model, data: data, config: config,
                                           shouldStop: { Interrupt.requested }, progress: bar.update)
            bar.finish(interrupted: result.interrupted)
            return .object(TrainResultValue(result: result))
        },
        Command("eval", summary: "Accuracy and loss of a model on a split, in eval mode.",
                parameters: [
                    .positional("model", .modelOrResult, help: "the model (or a training result)"),
                    .keyword("data", .dataset, default: .required, help: "the data set"),
                    .keyword("split", .symbol(["test", "train", "val"], name: "split"), default: .value(.symbol("test")),
                             help: "test, train or val"),
                ],
                example: "e = eval r data=d") { args, _ in
            let model = try args.object(ModelValue.self, "model").model
            let data = try args.object(DatasetValue.self, "data").dataset
            try checkFits(model, data, args)
            let name = try args.symbol("split")
            let split: DataSplit
            switch name {
            case "train": split = data.train
            case "val":
                guard let v = data.validation else { throw args.error("the data has no validation split; load it with val=N", at: "split") }
                split = v
            default: split = data.test
            }
            let (loss, accuracy) = Trainer.evaluate(model, on: split)
            return .object(EvaluationValue(accuracy: accuracy, loss: loss, count: split.count, split: name))
        },
    ]

    /// Whether output shows wall-clock numbers (`set timing off` makes logs diffable).
    static let timing: [Command] = [
        Command("set timing", summary: "Show or hide wall-clock numbers (seconds, samples/s) in training output, for diffable logs.",
                parameters: [.positional("state", .symbol(["on", "off"], name: "state"), help: "on (default) or off")],
                example: "set timing off") { args, _ in
            ProgressBar.showsTiming = try args.symbol("state") == "on"
            return .none
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
