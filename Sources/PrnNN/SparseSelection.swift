import Foundation
import PrnKernel

/// Whether masked layers run on the sparse kernels (`Tensor+Sparse.swift`, `Conv+Sparse.swift`)
/// or as dense products of `mask ⊙ w`. Either way the numbers are the dense path's (bit for bit
/// up to the sign of a zero sum); only the time differs.
public enum SparseMode: String, CaseIterable, Sendable {
    /// Sparse where `SparseSelection.runsSparse` says it pays.
    case auto
    /// Every masked layer sparse.
    case on
    /// Every layer dense.
    case off

    /// The mode forward passes use: `set sparse` changes it, `train … sparse=` for one run.
    public nonisolated(unsafe) static var current = SparseMode.auto

    /// Runs `body` with `mode` as the current mode, restoring the previous one after.
    public static func with<T>(_ mode: SparseMode, _ body: () throws -> T) rethrows -> T {
        let saved = current
        current = mode
        defer { current = saved }
        return try body()
    }
}

/// The fixed rule by which `auto` picks a layer's path: from its kept fraction, its kind and (for
/// a convolution) the algorithm its dense form would use, never by timing at run time, so a
/// script computes the same way on every machine.
///
/// The crossovers are where the sparse training step of one layer (forward, input gradient,
/// weight gradient) first beats the dense one, measured by `prn bench sparse`'s crossover lines
/// on these machines (2 vCPU AMD EPYC Zen 4; see README), rounded down to a density the sparse
/// step clearly wins at. Below them sparse wins, and by more the sparser the layer. Each is one
/// number per dense algorithm, to re-tune when that algorithm gets faster.
public enum SparseSelection {
    /// Kept fraction at or below which a fully connected layer of more than 32,768 weights runs
    /// sparse (2026-11-30: 1.41× at 0.2 and 1.03× at 0.3, with the vectorized SDDMM).
    public static let largeLinearCrossover = 0.2

    /// Kept fraction at or below which a fully connected layer of `shape` (`[out, in]`) runs
    /// sparse. Smaller layers cross over later, because their dense step is mostly fixed costs
    /// (GEMM packing and thread hand-off, the mask product and its gradient, the optimizer's
    /// update at the kept positions) rather than multiply-adds:
    /// - up to 1,024 weights (LeNet-300-100's 10 × 100 head): at any kept fraction. Alone, its
    ///   step took as long on either path at 0.2–0.5 (`prn bench sparse`, session 11, idle);
    ///   in the network at density 0.1, where global SynFlow keeps 96 % of it, running it sparse
    ///   made the step faster (2026-12-01, load 9, medians of five alternating runs: 95k → 102k
    ///   samples/s, and 532k → 558k at 0.005 where it keeps 38 %);
    /// - up to 32,768 weights (the 100 × 300 layer): 0.4. Alone: 1.01× at 0.4, 1.15× at 0.3
    ///   (session 11, idle); in the network at density 0.1, where it keeps 35 %, 102k → 112k.
    /// - larger: `largeLinearCrossover`.
    public static func linearCrossover(_ shape: [Int]) -> Double {
        switch Shape.count(shape) {
        case ...1024: 1
        case ...32768: 0.4
        default: largeLinearCrossover
        }
    }

    /// Kept fraction at or below which a convolution runs sparse, by the algorithm the dense
    /// path would run it with (`ConvAlgorithm.chosen`, a function of the shapes):
    /// - `direct` (im2col): 0.4 (2026-11-30: 1.30× at 0.4, 1.14× at 0.5, with the direct
    ///   stride-1 kernels of `Conv+SparseDirect.swift`);
    /// - `winograd4x4`: 0.15 (2026-12-01 idle, at 3dcd7c7's faster transforms, VGG-16's layers
    ///   at batch 128: 1.05–1.32× at 0.15, 0.81–1.06× at 0.2; Winograd computes 4× fewer
    ///   multiply-adds than im2col);
    /// - `winograd2x2`: 0.15 (VGG-16's 2×2 layers: 1.19× at 0.15, 0.97× at 0.2);
    /// - `sliding`: 0.15, F(4×4)'s, which it replaced on the layers it runs, where it is faster.
    public static func convCrossover(_ algorithm: ConvAlgorithm) -> Double {
        switch algorithm {
        case .direct: 0.4
        case .winograd4x4: 0.15
        case .winograd2x2: 0.15
        case .sliding: 0.15
        }
    }

    /// The largest convolution crossover: a convolution above it runs dense whatever its shape.
    static let widestConvCrossover = [ConvAlgorithm.direct, .winograd4x4, .winograd2x2, .sliding].map(convCrossover).max()!

    /// Whether a masked weight of `shape` (rank 2: linear, rank 4: convolution) with kept
    /// fraction `density` may run sparse under `mode`: then the model hands the layer its
    /// topology (and training binds it compact). A linear layer then runs sparse; a convolution
    /// asks `convolutionRunsSparse` with its input's shape.
    public static func runsSparse(shape: [Int], density: Double, mode: SparseMode) -> Bool {
        switch mode {
        case .off: return false
        case .on: return true
        case .auto: return density <= (shape.count == 4 ? widestConvCrossover : linearCrossover(shape))
        }
    }

    /// Whether a masked convolution with kept fraction `density` runs its products sparse under
    /// `mode`, for an input of shape `input` (`[N, C, H, W]`): under `auto`, when `density` is at
    /// most the crossover of the algorithm the dense path would use for these shapes.
    public static func convolutionRunsSparse(input: [Int], weight: [Int], stride: Int, padding: Int,
                                             density: Double, mode: SparseMode) -> Bool {
        switch mode {
        case .off: return false
        case .on: return true
        case .auto:
            let algorithm = ConvAlgorithm.chosen(input: input, weight: weight, stride: stride, padding: padding)
            return density <= convCrossover(algorithm)
        }
    }
}

/// The topologies of one set of masks, built on first use and shared by every copy of a model
/// that has those masks (a model replaces it whenever its masks change).
final class SparseForms: @unchecked Sendable {
    private var topologies: [String: SparseTopology] = [:]
    private let lock = NSLock()

    /// The topology of the mask of `path`, if that layer runs sparse under the current mode.
    func chosen(_ path: String, mask: Tensor) -> SparseTopology? {
        let mode = SparseMode.current
        guard mode != .off else { return nil }
        let topology = self.topology(path, mask: mask)
        return SparseSelection.runsSparse(shape: mask.shape, density: topology.density, mode: mode) ? topology : nil
    }

    /// The topology of the mask of `path`.
    func topology(_ path: String, mask: Tensor) -> SparseTopology {
        lock.lock()
        defer { lock.unlock() }
        let topology = topologies[path] ?? SparseTopology(mask: mask)
        topologies[path] = topology
        return topology
    }
}

extension Model {
    /// Whether the network's first layer is fully connected over the whole input and runs sparse
    /// under the current mode: then training makes each batch feature-major beside the next
    /// step (`Batches.Iterator`) and hands it to `forward`, so the layer need not transpose it.
    var readsInputFeatureMajor: Bool {
        guard let first = slots.first(where: { $0.slot.isParameter }), first.slot.isPrunable, first.slot.shape.count == 2,
              first.slot.shape[1] == Shape.count(architecture.inputShape) else { return false }
        return sparseTopology(first.path) != nil
    }

    /// The flat indices of the kept entries of each masked weight: the optimizer updates those
    /// only, so pruned weights and their optimizer state are never touched, on either path.
    public var keptPositions: [String: [Int32]] {
        masks.reduce(into: [:]) { kept, entry in kept[entry.key] = sparseForms.topology(entry.key, mask: entry.value).positions }
    }
}
