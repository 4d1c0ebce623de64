import Foundation
import PrnKernel

/// Su et al.'s (2020) corrupted scoring data (METHODS.md, Su et al. 2020 sanity checks): does a
/// data-dependent pruning method still work when its data carries no signal?
///
/// - `labels(fraction: f)`: exactly `round(f·N)` training examples, chosen uniformly at random,
///   get a wrong label: a class drawn uniformly from the classes other than their own. So the
///   fraction of changed labels is exactly `round(f·N)/N`, and at `f = 1` no label is right
///   (images untouched).
/// - `pixels`: every training image's pixels are permuted by one fixed random permutation of the
///   `H·W` positions (the same for every image and every channel; a flat example permutes its
///   features). Labels untouched.
///
/// Only the training split (what scoring draws from) is corrupted; validation and test stay
/// clean. Scripts score on the corrupted data and train on the clean one.
public enum Corruption: Equatable, Sendable, CustomStringConvertible {
    case labels(fraction: Double)
    case pixels

    public var description: String {
        switch self {
        case .labels(let f): return "corrupt=labels fraction=\(String(format: "%g", f))"
        case .pixels: return "corrupt=pixels"
        }
    }
}

extension Dataset {
    /// The same data set with its training split corrupted (seeded; `RandomPurpose.corruption`).
    public func corrupted(_ corruption: Corruption, seed: UInt64) throws -> Dataset {
        let rng = RNG(seed: seed, purpose: .corruption)
        let train: DataSplit
        switch corruption {
        case .labels(let fraction):
            guard fraction.isFinite, (0...1).contains(fraction) else {
                throw DataError("fraction=\(fraction) must be between 0 and 1")
            }
            guard classes >= 2 else { throw DataError("\(name) has one class: no label can be wrong") }
            train = self.train.withWrongLabels(fraction: fraction, classes: classes, rng: rng)
        case .pixels:
            train = self.train.withPermutedPixels(rng: rng)
        }
        return Dataset(name: "\(name) \(corruption)", source: source, files: files, train: train,
                       validation: validation, test: test, classes: classes, classNames: classNames,
                       normalization: normalization, checksum: checksum, augmentation: augmentation)
    }
}

extension DataSplit {
    /// `round(f·N)` examples (a random permutation's prefix) relabelled uniformly among the other
    /// classes: label `y` becomes `(y + 1 + u) mod C` with `u` uniform in `0..<C−1`.
    func withWrongLabels(fraction: Double, classes: Int, rng: RNG) -> DataSplit {
        var chooser = rng.split(0), drawer = rng.split(1)
        let changed = Int((fraction * Double(count)).rounded(.toNearestOrEven))
        var labels = self.labels
        for index in chooser.permutation(count).prefix(changed) {
            labels[index] = (labels[index] + 1 + drawer.int(below: classes - 1)) % classes
        }
        return DataSplit(images: images, labels: labels, normalization: normalization)
    }

    /// Every example's pixels permuted by one permutation of the spatial positions.
    func withPermutedPixels(rng: RNG) -> DataSplit {
        let shape = exampleShape
        let channels = shape.count == 3 ? shape[0] : 1
        let positions = exampleSize / Swift.max(channels, 1)
        var drawer = rng.split(0)
        let permutation = drawer.permutation(positions)
        let size = exampleSize
        let permuted = Tensor.build(images.shape) { out in
            images.scalars.withUnsafeBufferPointer { src in
                for example in 0..<count {
                    for channel in 0..<channels {
                        let base = example * size + channel * positions
                        for (to, from) in permutation.enumerated() { out[base + to] = src[base + from] }
                    }
                }
            }
        }
        return DataSplit(images: permuted, labels: labels, normalization: normalization)
    }
}
