import XCTest
import PrnKernel
import PrnNN
@testable import PrnPrune

/// Su et al.'s weight shuffling: same masks, kept values permuted among kept positions.
final class WeightShuffleTests: XCTestCase {
    func testMasksStayAndEachLayersKeptValuesArePermutedAmongKeptPositions() throws {
        let m = try Model(Architecture(name: .lenet300, inputShape: [1, 28, 28], classes: 10), seed: 3)
        let p = try Pruner.prune(m, method: .magnitude, target: .density(0.1), scope: .layer, seed: 9).model
        let s = try Ablation.shuffleWeights(p, seed: 4)
        XCTAssertEqual(s.masks, p.masks, "the mask is unchanged")
        for path in p.parameterPaths where !p.prunablePaths.contains(path) {
            XCTAssertEqual(s.state[path], p.state[path], "\(path) is not prunable and stays")
        }
        for path in p.prunablePaths {
            let mask = p.masks[path]!.scalars, before = p.state[path]!.scalars, after = s.state[path]!.scalars
            let kept = mask.indices.filter { mask[$0] == 1 }
            XCTAssertEqual(kept.map { after[$0] }.sorted(), kept.map { before[$0] }.sorted(), "\(path): same multiset of kept values")
            let moved = kept.filter { after[$0] != before[$0] }.count
            XCTAssertGreaterThan(moved, kept.count * 9 / 10, "\(path): a uniform permutation moves almost every value")
            let pruned = mask.indices.filter { mask[$0] == 0 }
            XCTAssertTrue(pruned.allSatisfy { after[$0] == before[$0] }, "\(path): pruned entries untouched")
        }
        XCTAssertEqual(try Ablation.shuffleWeights(p, seed: 4).state, s.state)
        XCTAssertNotEqual(try Ablation.shuffleWeights(p, seed: 5).state, s.state)
        XCTAssertEqual(s.provenance.ablations, [.init(.shuffleWeights, seed: 4)])
        XCTAssertEqual(s.provenance.ablationName, "shuffle_weights")
        XCTAssertThrowsError(try Ablation.shuffleWeights(m, seed: 1)) {
            XCTAssertTrue("\($0)".contains("shuffle_weights needs a pruned model"), "\($0)")
        }
    }
}
