import XCTest
import Foundation
import PrnKernel
import PrnNN
@testable import PrnPrune

/// SynFlow's cost on VGG-16 (CIFAR shape), for comparison with PyTorch (≈ 37 s for 100 rounds on
/// these machines). Runs only with `PRN_PRUNE_TIMING=1`; prints one line per phase.
final class ZZPruneTiming: XCTestCase {
    func testTimeSynFlowVGG16() throws {
        guard ProcessInfo.processInfo.environment["PRN_PRUNE_TIMING"] != nil else { return }
        let rounds = Int(ProcessInfo.processInfo.environment["ROUNDS"] ?? "100")!
        let m = try Model(Architecture(name: "vgg16", inputShape: [3, 32, 32], classes: 10, width: 1), seed: 0)
        var scorer = try Scorer(method: .synflow, model: m, data: nil, samples: nil, seed: 0)
        if let (log2R, _) = scorer.synflowAttempt(m, scale: SynFlowScale()) { print("TIMING vgg16 log2 R = \(log2R)") }
        var clock = Date()
        let scores = try scorer.scores(m, round: 1)
        let scoreTime = Date().timeIntervalSince(clock)
        clock = Date()
        _ = try Pruner.select(m, scores: scores.tensors, density: 0.5, scope: .global, invert: false)
        let selectTime = Date().timeIntervalSince(clock)
        print("TIMING vgg16 prunable \(m.prunableCount): one score \(scoreTime) s, one selection \(selectTime) s, exponent \(scores.exponent)")
        clock = Date()
        let p = try Pruner.prune(m, method: .synflow, target: .compression(2), rounds: rounds)
        let seconds = Date().timeIntervalSince(clock)
        print("TIMING synflow vgg16 \(rounds) rounds: \(seconds) s, density \(p.density)")
        for layer in try Connectivity.effectiveDensity(p.model) {
            print("TIMING layer \(layer.path) kept \(layer.kept) of \(layer.total), effective \(layer.effective)")
        }
    }
}

extension ZZPruneTiming {
    func testTimeSelectionParts() throws {
        guard ProcessInfo.processInfo.environment["PRN_PRUNE_TIMING"] != nil else { return }
        let m = try Model(Architecture(name: "vgg16", inputShape: [3, 32, 32], classes: 10, width: 1), seed: 0)
        let scores = Dictionary(uniqueKeysWithValues: m.prunablePaths.map { ($0, m.state[$0]!.abs()) })
        let masked = m.withMasks(Dictionary(uniqueKeysWithValues: m.prunablePaths.map { ($0, Tensor.ones(m.state[$0]!.shape)) }))
        func time(_ label: String, _ body: () -> Void) {
            let clock = Date()
            body()
            print("TIMING \(label): \(Date().timeIntervalSince(clock)) s")
        }
        var keys: [[UInt32]] = []
        time("isFinite") { for p in m.prunablePaths { _ = scores[p]!.isFinite } }
        time("alive count") { for p in m.prunablePaths { _ = masked.masks[p]!.scalars.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } } }
        time("keys") { keys = m.prunablePaths.map { MaskSelection.keys(scores: scores[$0]!, mask: masked.masks[$0], invert: false).keys } }
        time("keepMasks") { _ = MaskSelection.keepMasks(keys, shapes: m.prunablePaths.map { m.state[$0]!.shape }, remove: 7_000_000) }
        time("abs") { for p in m.prunablePaths { _ = m.state[p]!.abs() } }
        time("select") { _ = try! Pruner.select(masked, scores: scores, density: 0.5, scope: .global, invert: false) }
    }
}
