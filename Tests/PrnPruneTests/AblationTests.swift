import XCTest
import PrnKernel
import PrnNN
@testable import PrnPrune

final class AblationTests: XCTestCase {
    func pruned(_ initializer: Initializer = .kaimingNormal) throws -> Model {
        let m = try Model(Architecture(name: .lenet300, inputShape: [1, 28, 28], classes: 10, initializer: initializer), seed: 3)
        return try Pruner.prune(m, method: .magnitude, target: .density(0.1), scope: .layer, seed: 9).model
    }

    func testShuffleKeepsEveryLayersCountAndMovesItsPositions() throws {
        let p = try pruned()
        let (state, masks) = (p.state, p.masks)
        let s = try Ablation.shuffle(p, seed: 4)
        XCTAssertEqual(p.state, state)
        XCTAssertEqual(p.masks, masks)
        XCTAssertEqual(s.state, state, "shuffle moves masks, not weights")
        for path in p.prunablePaths {
            let before = p.masks[path]!, after = s.masks[path]!
            XCTAssertEqual(after.shape, before.shape)
            XCTAssertEqual(PruneFixtures.ones(after), PruneFixtures.ones(before), path)
            XCTAssertNotEqual(after, before, path)
            // A uniform permutation keeps about density² of the positions.
            let overlap = zip(before.scalars, after.scalars).filter { $0 == 1 && $1 == 1 }.count
            XCTAssertEqual(Double(overlap) / Double(PruneFixtures.ones(before)), 0.1, accuracy: 0.05, path)
        }
        XCTAssertEqual(try Ablation.shuffle(p, seed: 4).masks, s.masks)
        XCTAssertNotEqual(try Ablation.shuffle(p, seed: 5).masks, s.masks)
        XCTAssertEqual(s.provenance.ablations, [.init(.shuffle, seed: 4)])
        XCTAssertEqual(s.provenance.ablationName, "shuffle")
        XCTAssertEqual(s.provenance.pruning, p.provenance.pruning, "the pruning record stays")
        XCTAssertEqual(s.provenance.methodName, "magnitude")
    }

    func testReinitKeepsMasksAndDrawsFromTheSameDistribution() throws {
        for initializer in [Initializer.kaimingNormal, .pytorchDefault] {
            let p = try pruned(initializer)
            let (state, masks) = (p.state, p.masks)
            let r = try Ablation.reinit(p, seed: 77)
            XCTAssertEqual(p.state, state)
            XCTAssertEqual(r.masks, masks)
            XCTAssertEqual(r.provenance.ablations, [.init(.reinit, seed: 77)])
            XCTAssertEqual(r.provenance.pruning?.method, .magnitude)
            XCTAssertEqual(r.provenance.initSeed, 77, "the seed of the weights it now has")
            let fresh = try Model(p.architecture, seed: 12_345)
            var samples: [[Double]] = []
            for path in ["fc2.weight", "fc3.weight"] {
                XCTAssertNotEqual(r.state[path], p.state[path])
                samples.append(r.state[path]!.scalars.map(Double.init))
                samples.append(fresh.state[path]!.scalars.map(Double.init))
                samples.append(p.state[path]!.scalars.map(Double.init))
            }
            let script = """
            import sys, json
            from scipy.stats import ks_2samp
            s = json.load(sys.stdin)
            print(json.dumps([ks_2samp(s[i], s[i + 1]).pvalue for i in range(0, len(s), 3)]))
            """
            let pValues = try PruneFixtures.python(script, input: samples) as! [Double]
            for p in pValues { XCTAssertGreaterThan(p, 0.01, "\(initializer)") }
        }
    }

    func testAblationsNeedAPrunedModel() throws {
        let m = try PruneFixtures.mlp()
        XCTAssertThrowsError(try Ablation.shuffle(m, seed: 1)) { XCTAssertTrue("\($0)".contains("shuffle needs a pruned model"), "\($0)") }
        XCTAssertThrowsError(try Ablation.reinit(m, seed: 1)) { XCTAssertTrue("\($0)".contains("reinit needs a pruned model"), "\($0)") }
    }

    func testAblationsChainInTheProvenance() throws {
        let p = try pruned()
        let both = try Ablation.reinit(try Ablation.shuffle(p, seed: 1), seed: 2)
        XCTAssertEqual(both.provenance.ablations, [.init(.shuffle, seed: 1), .init(.reinit, seed: 2)])
        XCTAssertEqual(both.provenance.ablationName, "shuffle+reinit")
        XCTAssertEqual(p.provenance.ablationName, "original")
        let again = try Pruner.prune(both, method: .magnitude, target: .density(0.05), seed: 3).model
        XCTAssertEqual(again.provenance.ablations, [], "pruning again starts a new original")
    }
}
