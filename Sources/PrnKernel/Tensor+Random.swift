/// Seeded constructors. The same seed gives the same tensor on any thread count.
extension Tensor {
    /// Uniform in [low, high).
    public static func rand(_ shape: [Int], low: Float = 0, high: Float = 1, seed: UInt64) -> Tensor {
        var rng = RNG(seed: seed)
        return rand(shape, low: low, high: high, rng: &rng)
    }
    public static func rand(_ shape: [Int], low: Float = 0, high: Float = 1, rng: inout RNG) -> Tensor {
        let u = rng.uniform(count: Shape.count(shape))
        return Tensor(shape: shape, scalars: u.map { low + (high - low) * $0 })
    }

    /// Normal with the given mean and standard deviation.
    public static func randn(_ shape: [Int], mean: Float = 0, std: Float = 1, seed: UInt64) -> Tensor {
        var rng = RNG(seed: seed)
        return randn(shape, mean: mean, std: std, rng: &rng)
    }
    public static func randn(_ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout RNG) -> Tensor {
        let z = rng.normal(count: Shape.count(shape))
        if mean == 0 && std == 1 { return Tensor(shape: shape, scalars: z) }
        return Tensor(shape: shape, scalars: z.map { mean + std * $0 })
    }

    /// 0, 1, …, n-1 as floats.
    public static func arange(_ n: Int) -> Tensor {
        Tensor(shape: [n], scalars: (0..<n).map(Float.init))
    }
}
