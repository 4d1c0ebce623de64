import XCTest
import PrnKernel
import PrnAutograd
import PrnTestSupport
@testable import PrnNN

final class ModelTests: XCTestCase {
    func architecture(_ name: Zoo, _ input: [Int] = [1, 28, 28], width: Double = 1, hidden: [Int] = [],
                      initializer: Initializer = .kaimingNormal) -> Architecture {
        Architecture(name: name, inputShape: input, classes: 10, width: width, hidden: hidden, initializer: initializer)
    }

    func testLeNet300ParameterCountIsTheClosedForm() throws {
        let m = try Model(architecture(.lenet300), seed: 0)
        XCTAssertEqual(m.parameterCount, 784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10)
        XCTAssertEqual(m.prunablePaths, ["fc1.weight", "fc2.weight", "fc3.weight"])
        XCTAssertEqual(m.prunableCount, 784 * 300 + 300 * 100 + 100 * 10)
    }

    func testEveryZooModelRunsOnItsInputShape() throws {
        let cases: [(Zoo, [Int], Double)] = [(.mlp, [1, 28, 28], 1), (.lenet300, [1, 28, 28], 1), (.lenet5, [1, 28, 28], 1),
                                                (.conv2, [1, 28, 28], 0.25), (.conv4, [3, 32, 32], 0.25), (.conv6, [3, 32, 32], 0.125),
                                                (.vgg11, [3, 32, 32], 0.125), (.vgg16, [3, 32, 32], 0.125), (.resnet20, [3, 32, 32], 0.5)]
        XCTAssertEqual(Set(cases.map(\.0)), Set(Zoo.allCases))
        for (name, input, width) in cases {
            let m = try Model(architecture(name, input, width: width, hidden: [20]), seed: 1)
            let logits = m.predict(Tensor.randn([2] + input, seed: 2))
            XCTAssertEqual(logits.shape, [2, 10], name.rawValue)
            XCTAssertTrue(logits.isFinite, name.rawValue)
            // Only conv and linear weights are prunable: every prunable slot is rank 2 or 4.
            XCTAssertTrue(m.prunablePaths.allSatisfy { [2, 4].contains(m.state[$0]!.rank) && $0.hasSuffix("weight") }, name.rawValue)
        }
    }

    func testVGG16ConvolutionParameterCount() throws {
        let m = try Model(architecture(.vgg16, [3, 32, 32]), seed: 0)
        let plan = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
        var expected = 0, channels = 3
        for c in plan { expected += channels * c * 9; channels = c }
        let convs = m.prunablePaths.filter { $0.hasPrefix("conv") }.reduce(0) { $0 + m.state[$1]!.count }
        XCTAssertEqual(convs, expected)
    }

    func testBadArchitecturesThrow() {
        XCTAssertThrowsError(try Model(architecture(.conv6, [1, 4, 4]), seed: 0))
        XCTAssertThrowsError(try Model(architecture(.vgg16, [784]), seed: 0))
        XCTAssertThrowsError(try Model(architecture(.mlp), seed: 0))
    }

    func testKaimingAndPyTorchDefaultDistributions() throws {
        let k = try Model(architecture(.lenet300), seed: 3)
        let w = k.state["fc1.weight"]!.scalars.map(Double.init)
        let std = (w.map { $0 * $0 }.reduce(0, +) / Double(w.count)).squareRoot()
        XCTAssertEqual(std, (2.0 / 784).squareRoot(), accuracy: 0.01 * (2.0 / 784).squareRoot())
        XCTAssertEqual(k.state["fc1.bias"]!, Tensor.zeros([300]))

        let p = try Model(architecture(.lenet300, initializer: .pytorchDefault), seed: 3)
        let bound = Float(1 / 784.0.squareRoot())
        XCTAssertTrue(p.state["fc1.weight"]!.scalars.allSatisfy { Swift.abs($0) <= bound })
        XCTAssertTrue(p.state["fc1.bias"]!.scalars.allSatisfy { Swift.abs($0) <= bound })
        XCTAssertGreaterThan(p.state["fc1.weight"]!.abs().max().item, 0.95 * bound)
    }

    func testSeedsReproduceAndReinitKeepsMasks() throws {
        let a = try Model(architecture(.lenet300), seed: 5), b = try Model(architecture(.lenet300), seed: 5)
        XCTAssertEqual(a.state, b.state)
        let mask = Tensor(shape: [300, 784], scalars: (0..<(300 * 784)).map { Float($0 % 3 == 0 ? 1 : 0) })
        let masked = a.withMasks(["fc1.weight": mask])
        let fresh = masked.reinitialized(seed: 6)
        XCTAssertEqual(fresh.masks, masked.masks)
        XCTAssertNotEqual(fresh.state["fc1.weight"], masked.state["fc1.weight"])
        XCTAssertEqual(a.state["fc1.weight"]!.shape, fresh.state["fc1.weight"]!.shape)
    }

    func testMaskedWeightsGetZeroGradientAndDoNotAct() throws {
        var m = try Model(architecture(.mlp, [6], hidden: [5]), seed: 1)
        let mask = Tensor(shape: [5, 6], scalars: (0..<30).map { Float($0 % 2) })
        m = m.withMasks(["fc1.weight": mask])
        let leaves = m.parameterPaths.map { Variable(m.state[$0]!, requiresGrad: true) }
        let bound = Dictionary(uniqueKeysWithValues: zip(m.parameterPaths, leaves))
        let logits = m.forward(Variable(Tensor.randn([3, 6], seed: 2)), parameters: bound, training: true).output
        let g = grad(of: crossEntropy(logits, labels: [1, 2, 3]), wrt: leaves)
        let gw = g[m.parameterPaths.firstIndex(of: "fc1.weight")!].value
        for i in 0..<30 where mask.scalars[i] == 0 { XCTAssertEqual(gw.scalars[i], 0) }
        XCTAssertGreaterThan(gw.abs().sum().item, 0)
        // Changing a pruned weight changes nothing.
        var changed = m
        changed.state["fc1.weight"]!.scalars[0] += 100
        let x = Tensor.randn([3, 6], seed: 4)
        XCTAssertEqual(m.predict(x), changed.predict(x))
    }
}
