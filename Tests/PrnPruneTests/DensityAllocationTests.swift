import Foundation
import XCTest
import PrnTestSupport
import PrnKernel
import PrnNN
@testable import PrnPrune

/// Density allocation against a NumPy transcription of METHODS.md's formulas (RigL's
/// `get_sparsities_erdos_renyi` loop, Su et al.'s `SmartRatio.py` with its overflow pass).
final class DensityAllocationTests: XCTestCase {
    /// The prunable shapes of a zoo model, in build order, without drawing its weights.
    func shapes(_ name: Zoo, width: Double = 1) throws -> [[Int]] {
        let a = Architecture(name: name, inputShape: [3, 32, 32], classes: 10, width: width)
        return try name.build(a).namedSlots().filter { $0.slot.isPrunable }.map(\.slot.shape)
    }

    /// METHODS.md's formulas, written out in NumPy from the text (independently of the Swift code).
    static let reference = """
    import sys, json, numpy as np
    def erdos_renyi(shapes, D, kernel):
        N = np.array([np.prod(s) for s in shapes], dtype=np.float64)
        if kernel:
            raw = np.array([np.sum(s) / np.prod(s) for s in shapes], dtype=np.float64)
        else:  # n_in, n_out of a PyTorch [out, in, ...] weight
            raw = np.array([(s[0] + s[1]) / (s[0] * s[1]) for s in shapes], dtype=np.float64)
        dense = np.zeros(len(shapes), dtype=bool)
        while True:
            free = ~dense
            eps = (np.sum(N[free] * D) - np.sum(N[dense] * (1 - D))) / np.sum(raw[free] * N[free])
            if eps * raw[free].max() > 1:
                dense |= free & (raw == raw[free].max())
                if dense.all(): break
            else:
                break
        return np.where(dense, 1.0, eps * raw)
    def smart(shapes, D, linear_keep, resnet, free):
        L = len(shapes)
        N = np.array([np.prod(s) for s in shapes], dtype=np.float64)
        l = np.arange(1, L + 1, dtype=np.float64)
        r = (L - l + 1) ** 2 + (L - l + 1)
        if not resnet: r = r / l ** 2
        linear = np.array([len(s) == 2 for s in shapes])
        conv = free & ~linear
        goal = D * N[free].sum() - linear_keep * N[free & linear].sum()
        k = goal / np.sum(r[conv] * N[conv])
        p = np.where(linear, linear_keep, k * r)
        extra = 0.0
        for i in np.nonzero(conv)[0]:
            if p[i] >= 1:
                extra += (p[i] - 1) * N[i]; p[i] = 1
            else:
                rest = (1 - p[i]) * N[i]
                if rest >= extra: p[i] += extra / N[i]; extra = 0.0
                else: extra -= rest; p[i] = 1
        return p
    out = []
    for q in json.load(sys.stdin):
        shapes, D = q['shapes'], q['density']
        fixed = [None] * len(shapes)
        if q['dense_first']: fixed[0] = 1.0
        if q['last'] is not None: fixed[-1] = q['last']
        free = np.array([f is None for f in fixed])
        sub = [s for s, f in zip(shapes, free) if f]
        if q['scope'] == 'layer': d = np.full(len(sub), D)
        elif q['scope'] in ('erk', 'er'): d = erdos_renyi(sub, D, q['scope'] == 'erk')
        else: d = smart(shapes, D, q['linear_keep'], q['resnet'], free)[free]
        dens = np.array([f if f is not None else 0.0 for f in fixed]); dens[free] = d
        N = np.array([np.prod(s) for s in shapes], dtype=np.float64)
        out.append({'density': dens.tolist(), 'kept': [int(x) for x in np.round(dens * N)]})
    print(json.dumps(out))
    """

    struct Case {
        let name: String
        let shapes: [[Int]]
        let density: Double
        let scope: PruneScope
        var options = AllocationOptions()
        var residual = false
    }

    func reference(_ cases: [Case]) throws -> [(density: [Double], kept: [Int])] {
        let payload: [[String: Any]] = cases.map {
            ["shapes": $0.shapes, "density": $0.density, "scope": $0.scope.rawValue, "dense_first": $0.options.denseFirst,
             "last": $0.options.last.map { $0 as Any } ?? NSNull(), "linear_keep": $0.options.linearKeep, "resnet": $0.residual]
        }
        let input = String(decoding: try JSONSerialization.data(withJSONObject: payload), as: UTF8.self)
        let text = try Python.run(Self.reference, input: input)
        let objects = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [[String: Any]]
        return objects.map { (($0["density"] as! [NSNumber]).map(\.doubleValue), ($0["kept"] as! [NSNumber]).map(\.intValue)) }
    }

    func testDensitiesMatchTheNumpyTranscription() throws {
        let vgg = try shapes(.vgg16), resnet = try shapes(.resnet20), small = try shapes(.vgg11, width: 0.25)
        let lenet = [[300, 784], [100, 300], [10, 100]]
        var cases: [Case] = []
        for d in [0.5, 0.1, 0.02, 0.001] {
            for scope in [PruneScope.layer, .erk, .er] {
                cases.append(Case(name: "vgg16 \(scope) \(d)", shapes: vgg, density: d, scope: scope))
                cases.append(Case(name: "resnet20 \(scope) \(d)", shapes: resnet, density: d, scope: scope))
                cases.append(Case(name: "lenet300 \(scope) \(d)", shapes: lenet, density: d, scope: scope))
                cases.append(Case(name: "vgg16 \(scope) \(d) dense first, last 0.3", shapes: vgg, density: d, scope: scope,
                                  options: AllocationOptions(denseFirst: true, last: 0.3)))
            }
            cases.append(Case(name: "vgg16 smart \(d)", shapes: vgg, density: d, scope: .smart))
            cases.append(Case(name: "resnet20 smart \(d)", shapes: resnet, density: d, scope: .smart, residual: true))
            cases.append(Case(name: "vgg11/4 smart \(d) keep 0.001", shapes: small, density: d, scope: .smart,
                              options: AllocationOptions(linearKeep: 0.001)))
            cases.append(Case(name: "resnet20 smart \(d) dense first", shapes: resnet, density: d, scope: .smart,
                              options: AllocationOptions(denseFirst: true), residual: true))
        }
        let expected = try reference(cases)
        var sawDenseLoop = false, sawOverflow = false
        for (c, e) in zip(cases, expected) {
            let shares = try DensityAllocation.shares(shapes: c.shapes, density: c.density, scope: c.scope,
                                                      options: c.options, residual: c.residual)
            let densities = shares.map { share -> Double in
                guard case .density(let d) = share else { XCTFail("\(c.name): a pooled layer"); return .nan }
                return d
            }
            for (l, (got, want)) in zip(densities, e.density).enumerated() {
                XCTAssertEqual(got, want, accuracy: 1e-12 * Swift.max(1, Swift.abs(want)), "\(c.name) layer \(l)")
                XCTAssertEqual(PruneTarget.keptCount(density: got, total: c.shapes[l].reduce(1, *)), e.kept[l], "\(c.name) layer \(l)")
            }
            if c.scope == .erk, e.density.dropFirst().contains(1) { sawDenseLoop = true }
            if c.scope == .smart, e.density.first == 1, c.options.denseFirst == false { sawOverflow = true }
        }
        // The cases exercise both loops, not just the plain formulas.
        XCTAssertTrue(sawDenseLoop, "some ERK case turns a layer dense")
        XCTAssertTrue(sawOverflow, "some smart case overflows its first layer")
    }

    func testEveryScopeKeepsTheBudget() throws {
        let vgg = try shapes(.vgg16)
        let total = Double(vgg.reduce(0) { $0 + $1.reduce(1, *) })
        for scope in [PruneScope.layer, .erk, .er, .smart] {
            let shares = try DensityAllocation.shares(shapes: vgg, density: 0.05, scope: scope)
            let kept = zip(shares, vgg).reduce(0.0) { sum, pair in
                guard case .density(let d) = pair.0 else { return sum }
                return sum + d * Double(pair.1.reduce(1, *))
            }
            XCTAssertEqual(kept / total, 0.05, accuracy: 1e-9, scope.rawValue)
        }
    }

    func testPrunerKeepsTheAllocatedCountsAndPoolsTheRest() throws {
        let m = try Model(Architecture(name: .vgg11, inputShape: [3, 16, 16], classes: 10, width: 0.25), seed: 3)
        let shapes = m.prunablePaths.map { m.state[$0]!.shape }
        for scope in [PruneScope.erk, .er, .smart] {
            let e = try reference([Case(name: "", shapes: shapes, density: 0.1, scope: scope,
                                        options: AllocationOptions(denseFirst: true))])[0]
            let p = try Pruner.prune(m, method: .random, target: .density(0.1), scope: scope,
                                     allocation: AllocationOptions(denseFirst: true), seed: 4)
            XCTAssertEqual(p.layers.map(\.kept), e.kept, scope.rawValue)
            XCTAssertEqual(p.model.provenance.pruning?.denseFirst, true)
        }
        // Global with a dense first layer and a half-dense last one: the others pool round(D·ΣN).
        let p = try Pruner.prune(m, method: .magnitude, target: .density(0.1),
                                 allocation: AllocationOptions(denseFirst: true, last: 0.5))
        let n = p.layers.map(\.total)
        XCTAssertEqual(p.layers.first!.kept, n.first!)
        XCTAssertEqual(p.layers.last!.kept, PruneTarget.keptCount(density: 0.5, total: n.last!))
        let middle = p.layers.dropFirst().dropLast()
        XCTAssertEqual(middle.reduce(0) { $0 + $1.kept }, PruneTarget.keptCount(density: 0.1, total: middle.reduce(0) { $0 + $1.total }))
    }

    func testSmartNeedsConvLayersAndOptionsAreChecked() throws {
        XCTAssertThrowsError(try DensityAllocation.shares(shapes: [[300, 784], [10, 300]], density: 0.1, scope: .smart))
        // Linear layers that alone exceed the budget leave nothing to share.
        XCTAssertThrowsError(try DensityAllocation.shares(shapes: try shapes(.vgg11, width: 0.25), density: 0.001, scope: .smart,
                                                          options: AllocationOptions(linearKeep: 0.5)))
        let m = try PruneFixtures.mlp()
        XCTAssertThrowsError(try Pruner.prune(m, method: .random, target: .density(0.5), allocation: AllocationOptions(last: 1.5)))
        XCTAssertThrowsError(try Pruner.prune(m, method: .random, target: .density(0.5), allocation: AllocationOptions(linearKeep: -1)))
    }
}
