import XCTest
import PrnKernel
import PrnNN
@testable import PrnPrune

/// Counts, scopes, ties, rounds, invert, provenance and the value semantics of `Pruner.prune`.
final class PrunerTests: XCTestCase {
    func lenet300(seed: UInt64 = 0) throws -> Model {
        try Model(Architecture(name: .lenet300, inputShape: [1, 28, 28], classes: 10), seed: seed)
    }

    func kept(_ model: Model) -> Int { model.prunablePaths.reduce(0) { $0 + PruneFixtures.ones(model.masks[$1]!) } }

    func testLeNet300KeepsRoundNotFloorOfTheProduct() throws {
        let m = try lenet300()
        XCTAssertEqual(m.prunableCount, 266_200)
        for method in [PruneMethod.magnitude, .random, .synflow] {
            let p = try Pruner.prune(m, method: method, target: .sparsity(0.9), rounds: method == .synflow ? 3 : nil)
            XCTAssertEqual(kept(p.model), 26_620, method.rawValue)
            XCTAssertEqual(p.layers.reduce(0) { $0 + $1.kept }, 26_620)
            XCTAssertEqual(p.density, 0.1, accuracy: 1e-12)
        }
        let c = try Pruner.prune(m, method: .magnitude, target: .compression(2))
        XCTAssertEqual(kept(c.model), 2_662)   // compression 2 keeps 1 %
    }

    func testGlobalScopeRemovesExactlyKWithHeavyTiesLowestIndexFirst() throws {
        // Weights quantized to a handful of values: most of the threshold's value is tied.
        let m = try lenet300(seed: 2)
        var updates: [String: Tensor] = [:]
        for path in m.prunablePaths { updates[path] = m.state[path]!.map { ($0 * 8).rounded() / 8 } }
        let q = m.updating(updates)
        let p = try Pruner.prune(q, method: .magnitude, target: .density(0.3))
        XCTAssertEqual(kept(p.model), 79_860)   // round(0.3 · 266,200)

        // Reference: order by (|w|, global index) and remove the first k.
        let w = PruneFixtures.flatten(q.state, q.prunablePaths).map(Swift.abs)
        let order = w.indices.sorted { (w[$0], $0) < (w[$1], $1) }
        var expected = [Float](repeating: 1, count: w.count)
        for i in order.prefix(w.count - 79_860) { expected[i] = 0 }
        XCTAssertEqual(PruneFixtures.flatten(p.model.masks, q.prunablePaths), expected)
    }

    func testLayerScopeGivesEveryLayerItsOwnRoundedCount() throws {
        let m = try lenet300(seed: 3)
        for method in [PruneMethod.magnitude, .random, .synflow] {
            let p = try Pruner.prune(m, method: method, target: .density(0.123), scope: .layer, rounds: method == .synflow ? 4 : nil)
            for layer in p.layers {
                XCTAssertEqual(layer.kept, PruneTarget.keptCount(density: 0.123, total: layer.total), "\(method) \(layer.path)")
                XCTAssertEqual(PruneFixtures.ones(p.model.masks[layer.path]!), layer.kept)
            }
            XCTAssertEqual(p.layers.map(\.total), [235_200, 30_000, 1_000])
        }
    }

    func testRepruningNeverRevivesAndReportsWhatItCannotDo() throws {
        let m = try lenet300(seed: 1)
        let first = try Pruner.prune(m, method: .random, target: .density(0.5), seed: 1)
        let second = try Pruner.prune(first.model, method: .random, target: .density(0.2), rounds: 3, seed: 2)
        XCTAssertEqual(kept(second.model), 53_240)
        for path in m.prunablePaths {
            XCTAssertTrue(zip(first.model.masks[path]!.scalars, second.model.masks[path]!.scalars).allSatisfy { $1 <= $0 })
        }
        XCTAssertTrue(second.notes.isEmpty)
        // Asking for more than is left keeps the masks and says so.
        let third = try Pruner.prune(second.model, method: .magnitude, target: .density(0.4))
        XCTAssertEqual(third.model.masks, second.model.masks)
        XCTAssertEqual(third.notes.count, 1)
        XCTAssertTrue(third.notes[0].contains("stay pruned"), third.notes[0])
    }

    func testInvertKeepsTheLowestScores() throws {
        let m = try lenet300(seed: 5)
        let p = try Pruner.prune(m, method: .magnitude, target: .density(0.1), invert: true)
        let w = PruneFixtures.flatten(m.state, m.prunablePaths).map(Swift.abs)
        let keep = PruneFixtures.flatten(p.model.masks, m.prunablePaths)
        let keptValues = zip(w, keep).filter { $0.1 == 1 }.map(\.0)
        let removedValues = zip(w, keep).filter { $0.1 == 0 }.map(\.0)
        XCTAssertEqual(keptValues.count, 26_620)
        XCTAssertLessThanOrEqual(keptValues.max()!, removedValues.min()!)
        XCTAssertEqual(p.model.provenance.pruning?.invert, true)
    }

    func testInputModelIsUnchangedAndProvenanceIsRecorded() throws {
        let data = try PruneFixtures.data(shape: [1, 8, 8])
        let m = try PruneFixtures.cnn()
        let (state, masks, provenance) = (m.state, m.masks, m.provenance)
        for method in PruneMethod.allCases {
            let p = try Pruner.prune(m, method: method, target: .sparsity(0.8), scope: .layer, data: data,
                                     rounds: method == .synflow ? 5 : nil, samples: 20, seed: 42)
            XCTAssertEqual(m.state, state, method.rawValue)
            XCTAssertEqual(m.masks, masks, method.rawValue)
            XCTAssertEqual(m.provenance, provenance, method.rawValue)
            XCTAssertEqual(p.model.state, state, "prune changes masks only")
            XCTAssertEqual(Set(p.model.masks.keys), Set(m.prunablePaths))
            let info = try XCTUnwrap(p.model.provenance.pruning)
            XCTAssertEqual(info.method, method)
            XCTAssertEqual(info.sparsity, 0.8)
            XCTAssertEqual(info.density, 0.2, accuracy: 1e-12)
            XCTAssertNil(info.compression)
            XCTAssertEqual(info.scope, .layer)
            XCTAssertEqual(info.seed, 42)
            XCTAssertEqual(info.invert, false)
            XCTAssertEqual(info.rounds, method == .synflow ? 5 : 1)
            XCTAssertEqual(info.samples, method.needsData ? 20 : nil)
            XCTAssertEqual(p.model.provenance.ablations, [])
            XCTAssertEqual(p.model.provenance.initSeed, 1)
            XCTAssertEqual(p.model.provenance.methodName, method.rawValue)
        }
    }

    func testBadRequestsThrowAndStopRequestsStop() throws {
        let m = try PruneFixtures.mlp()
        XCTAssertThrowsError(try Pruner.prune(m, method: .magnitude, target: .density(1.5)))
        XCTAssertThrowsError(try Pruner.prune(m, method: .magnitude, target: .density(0.5), rounds: 0))
        var polls = 0
        XCTAssertThrowsError(try Pruner.prune(m, method: .synflow, target: .density(0.5), rounds: 10,
                                              shouldStop: { polls += 1; return polls > 3 })) { error in
            XCTAssertTrue("\(error)".contains("stopped at round 4"), "\(error)")
        }
    }

    func testMasksDoNotDependOnTheThreadCount() throws {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        let m = try Model(Architecture(name: .vgg11, inputShape: [3, 16, 16], classes: 10, width: 0.25), seed: 3)
        var results: [[String: Tensor]] = []
        for threads in [1, 2, 3] {
            Parallel.threads = threads
            results.append(try Pruner.prune(m, method: .synflow, target: .density(0.05), rounds: 4).model.masks)
            results.append(try Pruner.prune(m, method: .random, target: .density(0.05), seed: 2).model.masks)
        }
        for i in 2..<results.count { XCTAssertEqual(results[i], results[i % 2], "run \(i)") }
    }

    func testExtremeTargets() throws {
        let m = try PruneFixtures.cnn()
        let none = try Pruner.prune(m, method: .synflow, target: .density(0), rounds: 3)
        XCTAssertEqual(kept(none.model), 0)
        let all = try Pruner.prune(m, method: .magnitude, target: .density(1))
        XCTAssertEqual(kept(all.model), m.prunableCount)
    }
}
