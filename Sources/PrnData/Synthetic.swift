import PrnKernel

/// Parameters of a synthetic data set: Gaussian clusters, one per class.
///
/// Class `k` has a center `μ_k` with independent standard normal entries; an example of class `k`
/// is `(μ_k + noise · z) / √(1 + noise²)` with `z` standard normal, so every feature has variance 1
/// whatever the noise (the data is already "normalized"). Larger `noise` makes classes overlap.
/// Labels cycle `0, 1, …, classes − 1`, so every split (and a `val=` hold-out) is balanced.
/// Everything is drawn from `RNG(seed:purpose: .syntheticData)`: the same spec gives bit-identical data.
public struct SyntheticSpec: Hashable, Sendable, CustomStringConvertible {
    /// Number of classes (clusters).
    public var classes: Int
    /// Shape of one example: `[C, H, W]` for images, `[D]` for flat features.
    public var shape: [Int]
    /// Training examples.
    public var train: Int
    /// Test examples.
    public var test: Int
    /// Noise standard deviation relative to the spread of the centers.
    public var noise: Float
    /// Seeds the centers and the noise (labels cycle, they are not drawn).
    public var seed: UInt64

    /// The defaults: 10 classes of 1×28×28 images, 1000 train and 200 test examples, noise 1.
    public init(classes: Int = 10, shape: [Int] = [1, 28, 28], train: Int = 1000, test: Int = 200,
                noise: Float = 1, seed: UInt64 = 0) {
        self.classes = classes
        self.shape = shape
        self.train = train
        self.test = test
        self.noise = noise
        self.seed = seed
    }

    public var description: String {
        "classes=\(classes) shape=\(shape) train=\(train) test=\(test) noise=\(noise) seed=\(seed)"
    }

    /// Checks the parameters a user may have typed.
    public func validate() throws {
        guard classes >= 2, classes <= 1 << 20 else { throw DataError("synthetic: classes=\(classes) must be in 2...1048576") }
        guard (1...3).contains(shape.count), shape.allSatisfy({ $0 > 0 }) else {
            throw DataError("synthetic: shape \(shape) must be [D] or [C, H, W] with positive sizes")
        }
        guard train > 0 else { throw DataError("synthetic: train=\(train) must be positive") }
        guard test > 0 else { throw DataError("synthetic: test=\(test) must be positive") }
        guard noise.isFinite, noise >= 0 else { throw DataError("synthetic: noise=\(noise) must be a finite number ≥ 0") }
        for (count, what) in [(train, "train"), (test, "test"), (classes, "classes")] {
            do { _ = try Shape.checkedCount([count] + shape) } catch {
                throw DataError("synthetic: \(what)=\(count) examples of shape \(shape) is too large")
            }
        }
    }
}

/// Generates synthetic data sets.
enum Synthetic {
    static func make(_ spec: SyntheticSpec) throws -> Dataset {
        try spec.validate()
        let rng = RNG(seed: spec.seed, purpose: .syntheticData)
        var centerRNG = rng.split(0)
        let centers = centerRNG.normal(count: spec.classes * Shape.count(spec.shape))
        let train = split(spec, centers: centers, count: spec.train, rng: rng.split(1))
        let test = split(spec, centers: centers, count: spec.test, rng: rng.split(2))
        var crc: UInt32 = 0
        for part in [train, test] {
            crc = part.images.scalars.withUnsafeBytes { Checksum.crc32($0, continuing: crc) }
            crc = part.labels.map { Int64($0) }.withUnsafeBytes { Checksum.crc32($0, continuing: crc) }
        }
        return Dataset(name: "synthetic", source: .synthetic(spec), files: [], train: train, validation: nil,
                       test: test, classes: spec.classes, classNames: (0..<spec.classes).map(String.init),
                       normalization: .identity, checksum: crc, augmentation: nil)
    }

    private static func split(_ spec: SyntheticSpec, centers: [Float], count: Int, rng: RNG) -> DataSplit {
        let d = Shape.count(spec.shape)
        var rng = rng
        let z = rng.normal(count: count * d)
        let scale = 1 / (1 + spec.noise * spec.noise).squareRoot()
        let noise = spec.noise
        let labels = (0..<count).map { $0 % spec.classes }
        let images = Tensor.build([count] + spec.shape) { out in
            centers.withUnsafeBufferPointer { mu in
                z.withUnsafeBufferPointer { z in
                    Parallel.forEach(count, grain: max(1, (1 << 16) / d)) { range in
                        for i in range {
                            let center = mu.baseAddress! + labels[i] * d
                            for j in 0..<d { out[i * d + j] = (center[j] + noise * z[i * d + j]) * scale }
                        }
                    }
                }
            }
        }
        return DataSplit(images: images, labels: labels, normalization: .identity)
    }
}
