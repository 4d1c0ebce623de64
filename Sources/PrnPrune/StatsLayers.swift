import Foundation
import PrnKernel
import PrnNN

/// The statistics of one prunable layer's unpruned weights `U_l = { w_i : m_i = 1 }`.
public struct LayerDescription: Sendable, Equatable {
    /// The weight's path, e.g. `fc1.weight`.
    public var path: String
    public var shape: [Int]
    /// Number of weights in the tensor.
    public var total: Int
    /// Number of unpruned weights (`total` when the layer has no mask).
    public var kept: Int
    /// `kept / total`.
    public var density: Double
    /// The fraction of the tensor that is unpruned and still on some input–output path
    /// (`Connectivity`); NaN when the path counts overflow.
    public var effectiveDensity: Double
    /// The description of `U_l`.
    public var stats: SampleDescription
}

/// One layer of a comparison between models A and B: how far B's unpruned weights lie from A's.
public struct LayerComparison: Sendable, Equatable {
    public var path: String
    public var keptA: Int
    public var keptB: Int
    /// Two-sample KS statistic `D` of `U_l(A)` vs `U_l(B)`.
    public var ksStatistic: Double
    /// Its asymptotic two-sided p-value (scipy `ks_2samp(..., method='asymp')`).
    public var ksPValue: Double
    /// Wasserstein-1 distance.
    public var wasserstein: Double
    /// `std(U_l(B)) / std(U_l(A)) − 1`.
    public var relativeStdChange: Double
    /// Jaccard similarity of the two masks (a missing mask is all ones).
    public var maskJaccard: Double
}

/// Models that cannot be compared layer by layer.
public struct LayerStatsError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}

/// Per-layer tables of the unpruned-weight statistics of METHODS.md ("Layer statistics").
///
/// Rows follow `prunablePaths` order. Layers are processed in parallel (each row is independent,
/// so results do not depend on the thread count).
///
/// ```swift
/// let rows = LayerStats.describe(model: pruned)
/// let moved = try LayerStats.compare(pruned, pruned.reinitialized(seed: 7))
/// let fromInit = try LayerStats.compareToInit(pruned, initial: dense)
/// ```
public enum LayerStats {
    /// Density, count and description of each prunable layer's unpruned weights.
    public static func describe(model: Model) -> [LayerDescription] {
        let paths = model.prunablePaths
        let effective = (try? Connectivity.effectiveDensity(model)) ?? []
        return Parallel.map(paths.count) { index in
            let path = paths[index]
            let w = model.state[path]!
            let kept = sortedSample(unprunedScalars(model, path))
            return LayerDescription(
                path: path, shape: w.shape, total: w.count, kept: kept.count,
                density: w.count == 0 ? .nan : Double(kept.count) / Double(w.count),
                effectiveDensity: effective.first { $0.path == path }?.effectiveDensity ?? .nan,
                stats: kept.values.map { Stats.describe(sorted: $0) } ?? .undefined(count: kept.count))
        }
    }

    /// Per layer, A's unpruned weights against B's unpruned weights, and the overlap of their
    /// masks. Throws unless both models have the same prunable paths and shapes.
    public static func compare(_ a: Model, _ b: Model) throws -> [LayerComparison] {
        try checkSameLayers(a, b)
        let paths = a.prunablePaths
        return Parallel.map(paths.count) { index in
            let path = paths[index]
            return comparison(path: path, a: sortedSample(unprunedScalars(a, path)),
                              b: sortedSample(unprunedScalars(b, path)),
                              jaccard: Stats.jaccard(mask(a, path), mask(b, path)))
        }
    }

    /// Per layer, A's unpruned weights against the *full* weight tensor of `initial` (all of w,
    /// whatever masks `initial` carries): how far pruning moved the distribution. B's count is
    /// the tensor size, and the mask overlap is A's mask against all ones (A's density).
    public static func compareToInit(_ a: Model, initial: Model) throws -> [LayerComparison] {
        try checkSameLayers(a, initial)
        let paths = a.prunablePaths
        return Parallel.map(paths.count) { index in
            let path = paths[index]
            let full = initial.state[path]!
            return comparison(path: path, a: sortedSample(unprunedScalars(a, path)), b: sortedSample(full.scalars),
                              jaccard: Stats.jaccard(mask(a, path), .ones(full.shape)))
        }
    }

    /// `U_l = { w_i : m_i ≠ 0 }` of one prunable tensor in Float64, in storage order; every
    /// weight when the layer has no mask.
    public static func unprunedWeights(_ model: Model, _ path: String) -> [Double] {
        unprunedScalars(model, path).map(Double.init)
    }

    // MARK: - Helpers

    /// A layer's sample: its size, and its values ascending in Float64 unless it holds a NaN
    /// (a diverged model), which leaves every statistic undefined.
    private struct Sample {
        var count: Int
        var values: [Double]?
    }

    private static func sortedSample(_ scalars: [Float]) -> Sample {
        Sample(count: scalars.count, values: scalars.contains(where: \.isNaN) ? nil : Stats.sortedAscending(scalars))
    }

    private static func unprunedScalars(_ model: Model, _ path: String) -> [Float] {
        let w = model.state[path]!.scalars
        guard let m = model.masks[path]?.scalars else { return w }
        var result: [Float] = []
        result.reserveCapacity(w.count)
        for k in w.indices where m[k] != 0 { result.append(w[k]) }
        return result
    }

    private static func comparison(path: String, a: Sample, b: Sample, jaccard: Double) -> LayerComparison {
        let undefined = SampleComparison(ks: KSTest(statistic: .nan, pValue: .nan), wasserstein: .nan, relativeStdChange: .nan)
        var c = undefined
        if let va = a.values, let vb = b.values { c = Stats.compare(sorted: va, vb) }
        return LayerComparison(path: path, keptA: a.count, keptB: b.count, ksStatistic: c.ks.statistic,
                               ksPValue: c.ks.pValue, wasserstein: c.wasserstein,
                               relativeStdChange: c.relativeStdChange, maskJaccard: jaccard)
    }

    private static func mask(_ model: Model, _ path: String) -> Tensor {
        model.masks[path] ?? .ones(model.state[path]!.shape)
    }

    static func checkSameLayers(_ a: Model, _ b: Model) throws {
        let pathsA = a.prunablePaths, pathsB = b.prunablePaths
        guard pathsA == pathsB else {
            throw LayerStatsError("models differ in their prunable layers: \(a.architecture.name) has "
                + "\(pathsA.joined(separator: ", ")); \(b.architecture.name) has \(pathsB.joined(separator: ", "))")
        }
        for path in pathsA {
            let shapeA = a.state[path]!.shape, shapeB = b.state[path]!.shape
            guard shapeA == shapeB else {
                throw LayerStatsError("\(path) has shape \(shapeA) in the first model and \(shapeB) in the second")
            }
        }
    }
}
