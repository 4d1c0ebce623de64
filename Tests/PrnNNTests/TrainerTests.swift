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
}
