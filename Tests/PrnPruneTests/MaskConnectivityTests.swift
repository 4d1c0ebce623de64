import XCTest
import PrnKernel
import PrnNN
@testable import PrnPrune

final class MaskConnectivityTests: XCTestCase {
    func testCutOffUnitsMakeTheirOtherWeightsIneffective() throws {
        // 6 → 5 → 4 → 3. Hidden unit 2 of layer 1 loses every incoming weight; hidden unit 1 of
        // layer 2 loses every outgoing weight.
        let m = try PruneFixtures.mlp(input: 6, hidden: [5, 4], classes: 3)
        var fc1 = Tensor.ones([5, 6]), fc3 = Tensor.ones([3, 4])
        for i in 0..<6 { fc1.scalars[2 * 6 + i] = 0 }
        for k in 0..<3 { fc3.scalars[k * 4 + 1] = 0 }
        let pruned = m.withMasks(["fc1.weight": fc1, "fc2.weight": Tensor.ones([4, 5]), "fc3.weight": fc3])
        let effective = try Connectivity.effectiveMasks(pruned)
        XCTAssertEqual(effective["fc1.weight"], fc1)
        XCTAssertEqual(effective["fc3.weight"], fc3)
        // fc2[j, i]: ineffective when it reads unit 2 (cut from the input) or feeds unit 1 (cut
        // from the output).
        let fc2 = effective["fc2.weight"]!
        for j in 0..<4 {
            for i in 0..<5 { XCTAssertEqual(fc2.scalars[j * 5 + i], i == 2 || j == 1 ? 0 : 1, "fc2[\(j), \(i)]") }
        }
        let table = try Connectivity.effectiveDensity(pruned)
        XCTAssertEqual(table.map(\.kept), [24, 20, 9])
        XCTAssertEqual(table.map(\.effective), [24, 12, 9])
        XCTAssertEqual(table[1].effectiveDensity, 0.6)
    }

    /// Reachability by breadth-first search over the masks of an MLP.
    func reference(_ masks: [Tensor]) -> [[Float]] {
        var forward: [[Bool]] = [[Bool](repeating: true, count: masks[0].shape[1])]
        for m in masks {
            let (out, inp) = (m.shape[0], m.shape[1])
            forward.append((0..<out).map { j in (0..<inp).contains { i in m.scalars[j * inp + i] != 0 && forward.last![i] } })
        }
        var backward: [[Bool]] = [[Bool](repeating: true, count: masks.last!.shape[0])]
        for m in masks.reversed() {
            let (out, inp) = (m.shape[0], m.shape[1])
            backward.insert((0..<inp).map { i in (0..<out).contains { j in m.scalars[j * inp + i] != 0 && backward[0][j] } }, at: 0)
        }
        return masks.enumerated().map { l, m in
            let (out, inp) = (m.shape[0], m.shape[1])
            return (0..<(out * inp)).map { e in
                let (j, i) = (e / inp, e % inp)
                return m.scalars[e] != 0 && forward[l][i] && backward[l + 1][j] ? 1 : 0
            }
        }
    }

    func testSparseMLPMatchesBreadthFirstSearch() throws {
        for seed in UInt64(1)...6 {
            let m = PruneFixtures.randomlyMasked(try PruneFixtures.mlp(input: 12, hidden: [10, 8, 6], classes: 4, seed: seed),
                                                 density: 0.2, seed: seed)
            let effective = try Connectivity.effectiveMasks(m)
            let expected = reference(m.prunablePaths.map { m.masks[$0]! })
            for (path, e) in zip(m.prunablePaths, expected) { XCTAssertEqual(effective[path]!.scalars, e, "seed \(seed) \(path)") }
        }
    }

    func testConvChannelCutOffAtTheInput() throws {
        // conv1 output channel 3 loses all its weights: conv2 weights reading channel 3 go dead.
        let m = try PruneFixtures.cnn()
        var conv1 = Tensor.ones(m.state["conv1.weight"]!.shape)   // [4, 1, 3, 3]
        for e in 0..<9 { conv1.scalars[3 * 9 + e] = 0 }
        let pruned = m.withMasks(["conv1.weight": conv1])
        let effective = try Connectivity.effectiveMasks(pruned)
        let conv2 = effective["conv2.weight"]!                      // [4, 4, 3, 3]
        for o in 0..<4 {
            for c in 0..<4 {
                for e in 0..<9 { XCTAssertEqual(conv2.scalars[(o * 4 + c) * 9 + e], c == 3 ? 0 : 1) }
            }
        }
        XCTAssertEqual(PruneFixtures.ones(effective["fc1.weight"]!), m.state["fc1.weight"]!.count)
    }

    func testDenseVGG16IsFullyEffectiveWithoutOverflow() throws {
        let m = try Model(Architecture(name: .vgg16, inputShape: [3, 32, 32], classes: 10), seed: 0)
        for layer in try Connectivity.effectiveDensity(m) {
            XCTAssertEqual(layer.effective, layer.total, layer.path)
        }
        // At 99.9 % SynFlow sparsity some weights are cut off, never more than are kept.
        let p = try Pruner.prune(try Model(Architecture(name: .vgg16, inputShape: [3, 32, 32], classes: 10, width: 0.25), seed: 0),
                                 method: .magnitude, target: .sparsity(0.999), scope: .global)
        let layers = try Connectivity.effectiveDensity(p.model)
        for layer in layers { XCTAssertLessThanOrEqual(layer.effective, layer.kept) }
        XCTAssertTrue(layers.contains { $0.effective < $0.kept }, "no weight was cut off at 99.9 %")
    }
}
