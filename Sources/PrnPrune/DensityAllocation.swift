import Foundation
import PrnNN

/// The options of a density allocation that the references hard-code and users vary
/// (METHODS.md, Density allocation across layers).
public struct AllocationOptions: Equatable, Sendable {
    /// Keep the first prunable layer dense (RigL's ImageNet default).
    public var denseFirst: Bool
    /// The last prunable layer's density (1 = dense); `nil` allocates it like the others.
    public var last: Double?
    /// `smart` only: the density of every linear layer (Su et al.'s `linear_keep_ratio`, 0.3).
    public var linearKeep: Double

    public init(denseFirst: Bool = false, last: Double? = nil, linearKeep: Double = 0.3) {
        self.denseFirst = denseFirst
        self.last = last
        self.linearKeep = linearKeep
    }

    /// Checks options the user may have typed.
    public func validate() throws {
        if let last { guard last.isFinite, (0...1).contains(last) else { throw PruneError("last=\(last) must be between 0 and 1") } }
        guard linearKeep.isFinite, (0...1).contains(linearKeep) else {
            throw PruneError("linear_keep=\(linearKeep) must be between 0 and 1")
        }
    }
}

/// How a global density `D` is shared among the prunable layers (METHODS.md, Density allocation
/// across layers): per layer either a density of its own or a place in one global pool.
///
/// ```
/// global   one threshold over the pooled layers: round(D·ΣN) kept among them
/// layer    (uniform) every layer keeps round(D·N_l)
/// erk      raw_l = Σ dims / Π dims                (RigL's Erdős–Rényi–Kernel)
/// er       raw_l = (n_in + n_out) / (n_in·n_out)  (RigL's Erdős–Rényi)
///          density_l = ε·raw_l,  ε = (Σ_free N_l·D − Σ_dense N_l·S) / Σ_free raw_l·N_l,
///          and while max ε·raw_l > 1 the layers of maximal raw_l turn dense and ε is recomputed
/// smart    (Su et al. 2020) r_l = (L−l+1)² + (L−l+1), divided by l² unless the net is residual;
///          linear layers keep `linearKeep`, conv layers p_l = k·r_l with Σ kept = D·ΣN − linear
///          kept, then excess above 1 overflows front to back into the following conv layers
/// ```
///
/// Layers fixed by `denseFirst` or `last` leave the budget: they keep their own density and the
/// other layers share `D` among themselves (RigL's `custom_sparsity_map`), so the overall density
/// is above `D` when a fixed layer is denser than `D`. Kept counts are `round(density_l·N_l)`
/// everywhere (RigL floors the pruned count).
public enum DensityAllocation {
    /// A layer's share: its own density, or membership in the global pool.
    public enum Share: Equatable, Sendable {
        case density(Double)
        case pooled
    }

    /// The share of each layer, given the prunable weights' shapes in the order the model builds
    /// them (PyTorch layouts: linear `[out, in]`, conv `[out, in, kh, kw]`).
    ///
    /// - Parameter residual: a ResNet, whose smart ratios are not divided by `l²`.
    public static func shares(shapes: [[Int]], density d: Double, scope: PruneScope,
                              options: AllocationOptions = AllocationOptions(), residual: Bool = false) throws -> [Share] {
        let count = shapes.count
        var fixed = [Double?](repeating: nil, count: count)
        if count > 0 {
            if options.denseFirst { fixed[0] = 1 }
            if let last = options.last { fixed[count - 1] = last }
        }
        let free = (0..<count).filter { fixed[$0] == nil }
        let sizes = shapes.map { Double($0.reduce(1, *)) }
        var result = fixed.map { $0.map(Share.density) ?? .pooled }
        switch scope {
        case .global:
            break
        case .layer:
            for l in free { result[l] = .density(d) }
        case .erk, .er:
            let raw = shapes.map { scope == .erk ? erkRaw($0) : erRaw($0) }
            for (l, density) in zip(free, erdosRenyi(raw: free.map { raw[$0] }, sizes: free.map { sizes[$0] }, density: d)) {
                result[l] = .density(density)
            }
        case .smart:
            for (l, density) in try smart(shapes: shapes, free: free, density: d, linearKeep: options.linearKeep, residual: residual) {
                result[l] = .density(density)
            }
        }
        return result
    }

    /// ERK's raw density: the sum of the dimensions over their product.
    static func erkRaw(_ shape: [Int]) -> Double {
        Double(shape.reduce(0, +)) / Double(shape.reduce(1, *))
    }

    /// ER's raw density from the input and output sizes: RigL reads the last two dimensions of
    /// TensorFlow's `[kh, kw, in, out]`, which are the first two of PyTorch's `[out, in, kh, kw]`.
    static func erRaw(_ shape: [Int]) -> Double {
        let (nOut, nIn) = (Double(shape[0]), Double(shape.count > 1 ? shape[1] : 1))
        return (nIn + nOut) / (nIn * nOut)
    }

    /// RigL's `get_sparsities_erdos_renyi` in real numbers: densities `ε·raw_l`, with the layers
    /// of largest raw density turned dense while some `ε·raw_l` exceeds 1.
    static func erdosRenyi(raw: [Double], sizes: [Double], density d: Double) -> [Double] {
        var dense = Set<Int>()
        var epsilon = 0.0
        while dense.count < raw.count {
            let free = raw.indices.filter { !dense.contains($0) }
            let budget = free.reduce(0) { $0 + sizes[$1] * d } - dense.reduce(0) { $0 + sizes[$1] * (1 - d) }
            epsilon = budget / free.reduce(0) { $0 + raw[$1] * sizes[$1] }
            let largest = free.map { raw[$0] }.max()!
            guard epsilon * largest > 1 else { break }
            for l in free where raw[l] == largest { dense.insert(l) }
        }
        return raw.indices.map { dense.contains($0) ? 1 : epsilon * raw[$0] }
    }

    /// Su et al.'s smart ratios for the `free` layers (indices into `shapes`, numbered over all
    /// layers from 1); linear layers (rank 2) keep `linearKeep`.
    static func smart(shapes: [[Int]], free: [Int], density d: Double, linearKeep: Double,
                      residual: Bool) throws -> [(Int, Double)] {
        let layers = Double(shapes.count)
        let sizes = shapes.map { Double($0.reduce(1, *)) }
        let convs = free.filter { shapes[$0].count != 2 }
        let linears = free.filter { shapes[$0].count == 2 }
        guard !convs.isEmpty else {
            throw PruneError("scope=smart allocates among conv layers, and this model's prunable layers are all linear "
                             + "(they would all keep linear_keep); use erk, er or layer")
        }
        let ratio = { (l: Int) -> Double in
            let fromEnd = layers - Double(l)   // L − l + 1 with l counted from 1
            let r = fromEnd * fromEnd + fromEnd
            return residual ? r : r / (Double(l + 1) * Double(l + 1))
        }
        let budget = d * free.reduce(0) { $0 + sizes[$1] } - linears.reduce(0) { $0 + linearKeep * sizes[$1] }
        guard budget >= 0 else {
            throw PruneError("scope=smart: the linear layers at linear_keep=\(PruneTarget.format(linearKeep)) alone keep more than "
                             + "density=\(PruneTarget.format(d)) allows; "
                             + "lower linear_keep")
        }
        let k = budget / convs.reduce(0) { $0 + ratio($1) * sizes[$1] }
        var result = linears.map { ($0, linearKeep) }
        // Overflow pass, front to back: a layer above 1 keeps everything and passes its excess on.
        var excess = 0.0
        for l in convs {
            let p = k * ratio(l) + excess / sizes[l]
            if p > 1 {
                excess = (p - 1) * sizes[l]
                result.append((l, 1))
            } else {
                excess = 0
                result.append((l, p))
            }
        }
        return result
    }
}

extension AllocationOptions {
    /// The options for round `e` of `rounds`: a fixed `last` density follows the same exponential
    /// schedule `last^(e/E)` as the target, so an iterative prune reaches it in the last round.
    func scheduled(round e: Int, of rounds: Int) -> AllocationOptions {
        var copy = self
        if let last { copy.last = PruneTarget.density(last).density(afterRound: e, of: rounds) }
        return copy
    }
}
