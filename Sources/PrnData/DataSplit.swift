import Foundation
import PrnKernel

/// One split of a data set (train, validation or test): normalized images and their labels.
///
/// `images` has shape `[count] + exampleShape` (`[N, C, H, W]` for image data). Values of this type
/// share their tensor with the cached `Dataset` (copy-on-write), so passing splits around is free.
public struct DataSplit: Sendable {
    /// Normalized images, `[count] + exampleShape`.
    public let images: Tensor
    /// One class index per example, in `0..<classes`.
    public let labels: [Int]
    /// The normalization that produced `images` (augmentation pads with its black value).
    public let normalization: Normalization

    /// A split of `images` (first axis: examples) and one label per example.
    public init(images: Tensor, labels: [Int], normalization: Normalization) {
        precondition(images.rank >= 1 && images.shape[0] == labels.count,
                     "\(labels.count) labels for images of shape \(images.shape)")
        self.images = images
        self.labels = labels
        self.normalization = normalization
    }

    /// The number of examples.
    public var count: Int { labels.count }
    /// The shape of one example, e.g. `[1, 28, 28]`.
    public var exampleShape: [Int] { Array(images.shape.dropFirst()) }
    /// Scalars per example.
    public var exampleSize: Int { Shape.count(exampleShape) }

    /// The examples at `indices`, in that order: images `[indices.count] + exampleShape` and labels.
    ///
    /// Each example is one contiguous row, so this is a `memcpy` per example, on up to `threads`
    /// threads (`Parallel.threads` when nil).
    public func gather(_ indices: [Int], threads: Int? = nil) -> (images: Tensor, labels: [Int]) {
        let size = exampleSize
        let n = count
        precondition(indices.allSatisfy { $0 >= 0 && $0 < n }, "example index out of range 0..<\(n)")
        let batch = Tensor.build([indices.count] + exampleShape) { out in
            images.scalars.withUnsafeBufferPointer { src in
                Parallel.forEach(indices.count, grain: max(1, (1 << 17) / max(size, 1)), threads: threads) { range in
                    for row in range {
                        (out.baseAddress! + row * size).update(from: src.baseAddress! + indices[row] * size, count: size)
                    }
                }
            }
        }
        return (batch, indices.map { labels[$0] })
    }

    /// Examples `range` as a split of their own (copies them).
    public func slice(_ range: Range<Int>) -> DataSplit {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "slice \(range) of \(count) examples")
        let (images, labels) = gather(Array(range))
        return DataSplit(images: images, labels: labels, normalization: normalization)
    }

    /// `count` distinct examples drawn at random (seeded), in random order.
    ///
    /// Pruning scores use such a subset (e.g. 100 training examples); the same seed gives the same
    /// examples on any machine and thread count. The draw has its own stream
    /// (`RandomPurpose.scoringSubset`), independent of the initial weights and the batch order
    /// drawn with the same seed.
    public func subset(count wanted: Int, seed: UInt64) throws -> DataSplit {
        guard wanted >= 0, wanted <= count else {
            throw DataError("cannot take a subset of \(wanted) examples from a split of \(count)")
        }
        var rng = RNG(seed: seed, purpose: .scoringSubset)
        let chosen = Array(rng.permutation(count).prefix(wanted))
        let (images, labels) = gather(chosen)
        return DataSplit(images: images, labels: labels, normalization: normalization)
    }

    /// How many examples of each class, indexed by class.
    public func classCounts(classes: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: classes)
        for label in labels where label >= 0 && label < classes { counts[label] += 1 }
        return counts
    }
}
