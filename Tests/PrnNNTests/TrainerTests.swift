import XCTest
import PrnKernel
import PrnData
@testable import PrnNN

final class TrainerTests: XCTestCase {
    func data() throws -> Dataset {
        try Dataset.load(.synthetic(SyntheticSpec(classes: 3, shape: [8], train: 96, test: 48, noise: 0.5, seed: 1)))
    }

    func model() throws -> Model {
        try Model(Architecture(name: .mlp, inputShape: [8], classes: 3, hidden: [16]), seed: 2)
    }

    func config(epochs: Int = 3) -> TrainConfig {
        var c = TrainConfig()
        c.epochs = epochs
        c.batchSize = 16
        c.learningRate = 0.01
        c.seed = 4
        return c
    }

    func testLearnsSeparableClustersAndLeavesTheInputUnchanged() throws {
        let (d, m) = (try data(), try model())
        let before = Trainer.evaluate(m, on: d.test)
        let r = try Trainer.train(m, data: d, config: config(epochs: 5))
        XCTAssertEqual(r.history.count, 5)
        XCTAssertLessThan(r.history.last!.trainLoss, r.history.first!.trainLoss)
        XCTAssertGreaterThan(r.testAccuracy, before.accuracy)
        XCTAssertEqual(Trainer.evaluate(m, on: d.test).loss, before.loss, "train must not change its input value")
        XCTAssertFalse(r.interrupted)
    }

    func testStopRequestReturnsTheModelAsOfTheLastStep() throws {
        let (d, m) = (try data(), try model())
        var polls = 0
        let r = try Trainer.train(m, data: d, config: config(), shouldStop: { polls += 1; return polls > 4 })
        XCTAssertTrue(r.interrupted)
        XCTAssertTrue(r.history.isEmpty)
        XCTAssertNotEqual(r.model.state, m.state, "four steps were taken")
    }

    func testDivergenceNamesEpochAndBatch() throws {
        var c = config()
        c.optimizer = .sgd
        c.learningRate = 1e30
        XCTAssertThrowsError(try Trainer.train(try model(), data: try data(), config: c)) { error in
            guard let e = error as? DivergenceError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(e)".contains("epoch \(e.epoch), batch \(e.batch)"))
            XCTAssertGreaterThan(e.batch, 1)
        }
    }

    /// A training that starts at epoch 1 (`from=`), keeps snapshots (`keep=`) and is stopped in
    /// its third epoch, then resumed from its checkpoint, ends with the same bits as one run
    /// straight through: the model, every epoch's numbers and every snapshot, including those
    /// taken before the stop.
    func testResumedTrainingWithFromAndKeepEqualsAnUninterruptedOne() throws {
        let (d, m) = (try data(), try model())
        var c = config(epochs: 5)
        c.startEpoch = 1
        c.keep = [1, 2, 3, 5]
        let straight = try Trainer.train(m, data: d, config: c)
        XCTAssertEqual(straight.history.map(\.epoch), [2, 3, 4, 5])
        XCTAssertEqual(Set(straight.snapshots.keys), [1, 2, 3, 5])

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("prn-resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = TrainCheckpoint(directory: folder.path, model: m, data: d, config: c)
        let batchesPerEpoch = (d.train.count + c.batchSize - 1) / c.batchSize
        var polls = 0
        let stopped = try Trainer.train(m, data: d, config: c, checkpoint: checkpoint,
                                        shouldStop: { polls += 1; return polls > 2 * batchesPerEpoch + 1 })
        XCTAssertTrue(stopped.interrupted)
        XCTAssertEqual(stopped.history.count, 2, "stopped in the third epoch run")

        let saved = try XCTUnwrap(try checkpoint.load())
        XCTAssertEqual(saved.epochsDone, 2)
        XCTAssertEqual(Set(saved.snapshots.keys), [1, 2, 3], "the snapshots taken before the stop were saved")
        let resumed = try Trainer.train(m, data: d, config: c, checkpoint: checkpoint, resumeFrom: saved)
        XCTAssertEqual(resumed.history.map(\.epoch), straight.history.map(\.epoch))
        XCTAssertEqual(resumed.history.map(\.testLoss.bitPattern), straight.history.map(\.testLoss.bitPattern))
        XCTAssertEqual(resumed.model.state, straight.model.state)
        XCTAssertEqual(Set(resumed.snapshots.keys), Set(straight.snapshots.keys))
        for (epoch, snapshot) in straight.snapshots {
            XCTAssertEqual(resumed.snapshots[epoch]?.state, snapshot.state, "snapshot of epoch \(epoch)")
        }
    }
}
