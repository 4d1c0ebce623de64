import Foundation

/// How many prunable weights to keep, as the user said it (METHODS.md, Targets).
///
/// ```
/// density d        keep the fraction d
/// sparsity s       d = 1 − s
/// compression c    d = 10^−c   (SynFlow's convention: c = 1 keeps 10 %, c = 2 keeps 1 %)
/// ```
///
/// Counts are integers computed once, in Float64, rounding half to even:
/// `kept = round(d·N)`. A product is never floored: `floor((1 − 0.9)·266200)` is 26619 in
/// floating point, while prn keeps `round(0.1·266200)` = 26620.
public enum PruneTarget: Equatable, Sendable, CustomStringConvertible {
    case density(Double)
    case sparsity(Double)
    case compression(Double)

    /// The fraction of prunable weights to keep.
    public var density: Double {
        switch self {
        case .density(let d): return d
        case .sparsity(let s): return 1 - s
        case .compression(let c): return Foundation.pow(10, -c)
        }
    }

    /// The fraction to remove.
    public var sparsity: Double {
        if case .sparsity(let s) = self { return s }
        return 1 - density
    }

    /// The compression asked for, when the target is one.
    public var compression: Double? {
        if case .compression(let c) = self { return c }
        return nil
    }

    /// Checks a target the user may have typed.
    public func validate() throws {
        switch self {
        case .density(let d):
            guard d.isFinite, (0...1).contains(d) else { throw PruneError("density=\(d) must be between 0 and 1") }
        case .sparsity(let s):
            guard s.isFinite, (0...1).contains(s) else { throw PruneError("sparsity=\(s) must be between 0 and 1") }
        case .compression(let c):
            guard c.isFinite, c >= 0 else { throw PruneError("compression=\(c) must be a finite number ≥ 0") }
        }
    }

    /// `round(d·N)` in Float64, half to even, within `0...N`.
    public static func keptCount(density d: Double, total n: Int) -> Int {
        let product = (d * Double(n)).rounded(.toNearestOrEven)
        guard product.isFinite else { return product > 0 ? n : 0 }
        return Swift.min(Swift.max(Int(product), 0), n)
    }

    /// The density to reach after round `e` of `rounds` on the exponential schedule `d^(e/E)`;
    /// the last round is exactly `d`.
    public func density(afterRound e: Int, of rounds: Int) -> Double {
        let d = density
        if e >= rounds { return d }
        return Foundation.pow(d, Double(e) / Double(rounds))
    }

    /// `density=0.1`, `sparsity=0.9` or `compression=2`, as typed.
    public var description: String {
        switch self {
        case .density(let d): return "density=\(PruneTarget.format(d))"
        case .sparsity(let s): return "sparsity=\(PruneTarget.format(s))"
        case .compression(let c): return "compression=\(PruneTarget.format(c))"
        }
    }

    /// A short rendering that hides Float64 noise: `1 − 0.9` prints as `0.1`.
    static func format(_ x: Double) -> String {
        let text = String(format: "%.10g", x)
        return text
    }
}
