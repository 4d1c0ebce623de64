import XCTest
import PrnKernel
import PrnData
import PrnNN
@testable import PrnPrune

/// Lottery-ticket rewinding on LeNet-300-100 as open_lth runs it: each level removes
/// ceil(0.2·kept) by smallest trained |w| (output layer held dense), masks nest, survivors go back
/// to their values at the rewind epoch, training resumes there.
final class LotteryTests: XCTestCase {
    func testIterativeMagnitudePruningWithRewinding() throws {
        let data = try Dataset.load(.synthetic(SyntheticSpec(classes: 10, shape: [1, 28, 28], train: 64, test: 16, seed: 2)),
                                    cache: DatasetCache())
        let m = try Model(Architecture(name: .lenet300, inputShape: [1, 28, 28], classes: 10), seed: 1)
        var config = TrainConfig()
        config.epochs = 2
        config.batchSize = 32
        config.optimizer = .sgd
        config.learningRate = 0.1
        config.schedule = .multiStep(milestones: [1], gamma: 0.1)
        config.keep = [1]
        config.seed = 3
        var r = try Trainer.train(m, data: data, config: config)
        let rewindPoint = try XCTUnwrap(r.snapshots[1])
        XCTAssertNotEqual(rewindPoint.state, m.state)
        XCTAssertNotEqual(rewindPoint.state, r.model.state)

        let allocation = AllocationOptions(last: Lottery.defaultLast(m.architecture))
        XCTAssertEqual(allocation.last, 1, "open_lth ignores LeNet-300-100's fc.weight")
        let pool = ["fc1.weight", "fc2.weight"]
        var previousKept = pool.reduce(0) { $0 + m.state[$1]!.count }
        var previousMasks: [String: Tensor] = [:]
        for level in 1...3 {
            let trained = r.model
            let density = try Lottery.density(removing: 0.2, from: trained, allocation: allocation)
            let p = try Pruner.prune(trained, method: .magnitude, target: .density(density), allocation: allocation).model
            let kept = pool.reduce(0) { $0 + PruneFixtures.ones(p.masks[$1]!) }
            XCTAssertEqual(kept, previousKept - Int((0.2 * Double(previousKept)).rounded(.up)), "level \(level)")
            XCTAssertEqual(PruneFixtures.ones(p.masks["fc3.weight"]!), 1000, "the output layer stays dense")
            // Masks nest, and the weights removed at this level are the smallest trained |w| of the survivors.
            var removedNow: [Float] = [], keptNow: [Float] = []
            for path in pool {
                let mask = p.masks[path]!.scalars, w = trained.state[path]!.scalars
                let before = previousMasks[path]?.scalars ?? [Float](repeating: 1, count: mask.count)
                XCTAssertTrue(zip(mask, before).allSatisfy { $0 <= $1 }, "level \(level) \(path): masks nest")
                for i in mask.indices where before[i] == 1 {
                    if mask[i] == 1 { keptNow.append(Swift.abs(w[i])) } else { removedNow.append(Swift.abs(w[i])) }
                }
            }
            XCTAssertLessThanOrEqual(removedNow.max()!, keptNow.min()!, "level \(level)")
            // Rewinding: every tensor (buffers included) as recorded at epoch 1, under the new mask.
            let v = try Lottery.rewind(p, to: rewindPoint)
            XCTAssertEqual(v.state, rewindPoint.state)
            XCTAssertEqual(v.masks, p.masks)
            for path in pool { XCTAssertEqual(v.effectiveWeight(path), rewindPoint.state[path]! * p.masks[path]!) }
            XCTAssertTrue(v.provenance.rewound)
            XCTAssertEqual(v.provenance.pruning, p.provenance.pruning)
            // Retraining runs from the rewind epoch to the end, the schedule advanced to it.
            var resume = config
            resume.startEpoch = 1
            resume.keep = []
            r = try Trainer.train(v, data: data, config: resume)
            XCTAssertEqual(r.history.map(\.epoch), [2])
            XCTAssertEqual(r.history[0].learningRate, 0.1 * 0.1, accuracy: 1e-9)
            for path in pool {
                let mask = p.masks[path]!.scalars, w = r.model.effectiveWeight(path).scalars
                XCTAssertTrue(mask.indices.allSatisfy { mask[$0] == 1 || w[$0] == 0 }, "pruned weights stay zero")
            }
            previousKept = kept
            previousMasks = p.masks
        }
        XCTAssertThrowsError(try Lottery.rewind(r.model, to: try PruneFixtures.mlp()))
    }

    func testSnapshotsAreTheWeightsAfterEachKeptEpoch() throws {
        let data = try PruneFixtures.data(shape: [6], train: 40)
        let m = try PruneFixtures.mlp()
        var config = TrainConfig()
        config.epochs = 3
        config.batchSize = 8
        config.keep = [0, 2]
        let r = try Trainer.train(m, data: data, config: config)
        XCTAssertEqual(Set(r.snapshots.keys), [0, 2])
        XCTAssertEqual(r.snapshots[0]!.state, m.state)
        // Two epochs from scratch give exactly the epoch-2 snapshot.
        config.epochs = 2
        config.keep = []
        XCTAssertEqual(try Trainer.train(m, data: data, config: config).model.state, r.snapshots[2]!.state)
    }
}
