import Foundation
import Synchronization
import PrnKernel

/// One minibatch: images `[B] + exampleShape` and their labels.
public struct Batch: Sendable {
    /// Normalized (and possibly augmented) images, `[B, C, H, W]` for image data.
    public let images: Tensor
    /// The class of each image.
    public let labels: [Int]
    /// The examples' indices in the split, so callers can trace a batch back to the data.
    public let indices: [Int]
    /// The batch's position in its epoch, from 0.
    public let index: Int
    /// The images flattened to `[B, features]` and transposed, `[features, B]`, when the batches
    /// were asked for it (`featureMajor`): the layout a sparse first layer computes in
    /// (`Model.forward`'s `featureMajorInput`).
    public internal(set) var featureMajorImages: Tensor? = nil
}

/// The minibatches of one epoch over a split, in a seeded order.
///
/// The order is `RNG(seed: seed, purpose: .dataOrder).split(epoch).permutation(count)` (or `0..<count` unshuffled), so
/// every example appears exactly once per epoch, the same seed and epoch give the same batches,
/// and each epoch has its own order. Batches are built when accessed, by copying rows, so the
/// collection itself holds only the order.
///
/// ```swift
/// for epoch in 0..<10 {
///     for batch in try data.train.batches(size: 64, seed: 7, epoch: epoch, augmentation: data.augmentation) {
///         // train on batch.images, batch.labels
///     }
/// }
/// ```
public struct Batches: RandomAccessCollection, Sendable {
    /// The split being batched.
    public let split: DataSplit
    /// Examples per batch (the last batch may be smaller unless `dropLast`).
    public let batchSize: Int
    /// The epoch's order of example indices (truncated to whole batches with `dropLast`).
    public let order: [Int]
    /// Training augmentation applied to every batch, if any.
    public let augmentation: Augmentation?
    /// The generator whose blocks drive the augmentation draws of this epoch.
    let augmentRNG: RNG
    /// Whether each batch also carries its images feature-major (`Batch.featureMajorImages`).
    public let featureMajor: Bool

    public var startIndex: Int { 0 }
    public var endIndex: Int { (order.count + batchSize - 1) / batchSize }

    /// Batch `i` of the epoch.
    public subscript(i: Int) -> Batch { batch(i, threads: nil) }

    /// Batch `i`, its rows copied (and augmented) on up to `threads` threads (`Parallel.threads`
    /// when nil).
    func batch(_ i: Int, threads: Int?) -> Batch {
        var batch = rows(i, threads: threads)
        if featureMajor { batch.featureMajorImages = batch.images.reshaped([batch.labels.count, split.exampleSize]).transposed() }
        return batch
    }

    /// Batch `i` without its feature-major images.
    private func rows(_ i: Int, threads: Int?) -> Batch {
        precondition(i >= 0 && i < endIndex, "batch \(i) of \(endIndex)")
        let lo = i * batchSize, hi = Swift.min(order.count, lo + batchSize)
        let indices = Array(order[lo..<hi])
        let labels = indices.map { split.labels[$0] }
        guard let augmentation else {
            return Batch(images: split.gather(indices, threads: threads).images, labels: labels, indices: indices, index: i)
        }
        let shape = split.exampleShape
        let (channels, height, width) = (shape[0], shape[1], shape[2])
        let size = split.exampleSize
        let fill = (0..<channels).map { split.normalization.zero(channel: split.normalization.channels == 1 ? 0 : $0) }
        let rng = augmentRNG
        let images = Tensor.build([indices.count] + shape) { out in
            split.images.scalars.withUnsafeBufferPointer { src in
                // Each example's draw comes from its own Philox block, so splitting the batch over
                // threads cannot change the result.
                Parallel.forEach(indices.count, grain: Swift.max(1, (1 << 15) / Swift.max(size, 1)), threads: threads) { range in
                    for row in range {
                        let draw = augmentation.draw(rng, position: lo + row)
                        augmentation.apply(draw, source: src.baseAddress! + indices[row] * size,
                                           channels: channels, height: height, width: width,
                                           fill: fill, into: out.baseAddress! + row * size)
                    }
                }
            }
        }
        return Batch(images: images, labels: labels, indices: indices, index: i)
    }

    /// The augmentation choices for the example at `position` of this epoch's order (for tests and
    /// for showing what augmentation did).
    public func augmentationDraw(position: Int) -> Augmentation.Draw? {
        augmentation?.draw(augmentRNG, position: position)
    }

    /// The batches in order; feature-major batches are each copied on another thread while the
    /// caller works on the one before (`Iterator`).
    public func makeIterator() -> Iterator { Iterator(batches: self) }

    /// Iterates the epoch's batches. When they are feature-major (made for a sparse first layer)
    /// and prn may use more than one thread (`Parallel.threads`), it copies the batches ahead on
    /// a background thread, `Prefetch.runLength` at a time, while the caller trains on earlier ones.
    ///
    /// A sparse training step at low density is mostly fixed costs, and copying the batch's rows
    /// out of the data set was the largest of them (LeNet-300-100 at density 0.005: 15 % of the
    /// step, perf, 2026-12-02) while the second core sat idle, since the step's sparse products
    /// are too small to split. A dense step keeps both cores busy, and there the extra thread
    /// only competes with the worker pool (LeNet-300-100's dense two-thread training read 24–49k
    /// samples/s with it in session 15's end run, 60–78k the session before; nine alternating
    /// pairs right after: median 57.5k with it, 60k without), so dense batches are copied on the
    /// calling thread as before. The copy is the same either way (the background copy runs on
    /// one thread, never through the worker pool), so only the time differs.
    public struct Iterator: IteratorProtocol {
        let batches: Batches
        var position = 0
        /// The run of batches being copied in the background that holds `position`, if any.
        var pending: Prefetch?

        init(batches: Batches) { self.batches = batches }

        public mutating func next() -> Batch? {
            guard position < batches.endIndex else { return nil }
            let batch = pending?.take(position) ?? batches[position]
            position += 1
            // The next run starts when the last batch of the current one (or the first of the
            // epoch) is taken: it has a whole step to copy the batch needed next.
            if batches.featureMajor && Parallel.threads > 1 && position < batches.endIndex
                && (pending == nil || position == pending!.range.upperBound) {
                pending = Prefetch(batches, position ..< Swift.min(position + Prefetch.runLength, batches.endIndex))
            }
            return batch
        }
    }

    /// A run of batches copied in order on a background thread; `take(i)` returns batch i once
    /// its copy is done. The copy never outlives its `Prefetch`: dropping one (a loop left early,
    /// Ctrl-C, an error) waits for the run to finish, so no background work is left running.
    final class Prefetch {
        /// Batches copied per background task. Starting a task wakes a sleeping thread, a futex
        /// system call that cost the calling thread about 6 % of a LeNet-300-100 step at density
        /// 0.005 when every batch had its own (perf, 2 threads, 2026-12-02); a run of four pays it
        /// once per four steps. Four batches of 64 MNIST images and their transposes are 1.6 MB.
        static let runLength = 4

        /// One batch's result, written by the background thread before it signals `done`.
        private final class Slot: @unchecked Sendable {
            var batch: Batch?
            let done = DispatchSemaphore(value: 0)
        }
        /// The batches this run copies.
        let range: Range<Int>
        private let slots: [Slot]
        /// Signaled once the whole run is copied.
        private let finished = DispatchSemaphore(value: 0)

        /// Background runs started and not yet finished, over all iterators (for tests).
        static let running = Atomic<Int>(0)

        init(_ batches: Batches, _ range: Range<Int>) {
            self.range = range
            let slots = range.map { _ in Slot() }
            self.slots = slots
            let finished = finished
            Self.running.add(1, ordering: .relaxed)
            DispatchQueue.global(qos: .userInitiated).async {
                for (slot, i) in zip(slots, range) {
                    slot.batch = batches.batch(i, threads: 1)
                    slot.done.signal()
                }
                Self.running.subtract(1, ordering: .relaxed)
                finished.signal()
            }
        }

        /// Batch `i` of the run, once copied; each is taken once (the run then lets go of it).
        func take(_ i: Int) -> Batch? {
            guard range.contains(i) else { return nil }
            let slot = slots[i - range.lowerBound]
            slot.done.wait()
            defer { slot.batch = nil }
            return slot.batch!
        }

        deinit { finished.wait() }
    }
}

extension DataSplit {
    /// The batches of epoch `epoch`.
    ///
    /// - Parameters:
    ///   - size: examples per batch; the last batch keeps the remainder unless `dropLast`.
    ///   - seed: seeds the shuffle and the augmentation.
    ///   - epoch: selects this epoch's order: `RNG(seed: seed, purpose: .dataOrder).split(epoch).permutation(count)`.
    ///   - shuffle: `false` keeps the split's order (evaluation).
    ///   - dropLast: drop a final batch smaller than `size`.
    ///   - augmentation: e.g. `.cifar` for training batches; needs `[C, H, W]` examples.
    ///   - featureMajor: each batch also carries its images feature-major (`Batch.featureMajorImages`).
    public func batches(size: Int, seed: UInt64 = 0, epoch: Int = 0, shuffle: Bool = true,
                        dropLast: Bool = false, augmentation: Augmentation? = nil, featureMajor: Bool = false) throws -> Batches {
        guard size > 0 else { throw DataError("batch size must be positive, got \(size)") }
        guard epoch >= 0 else { throw DataError("epoch must be ≥ 0, got \(epoch)") }
        if let augmentation { try augmentation.validate(exampleShape: exampleShape) }
        var order: [Int]
        if shuffle {
            var rng = RNG(seed: seed, purpose: .dataOrder).split(UInt64(epoch))
            order = rng.permutation(count)
        } else {
            order = Array(0..<count)
        }
        if dropLast { order.removeLast(order.count % size) }
        // A stream distinct from the order's, so crops are not correlated with it.
        let augmentRNG = RNG(seed: seed, purpose: .augmentation).split(UInt64(epoch))
        return Batches(split: self, batchSize: size, order: order, augmentation: augmentation, augmentRNG: augmentRNG,
                       featureMajor: featureMajor)
    }
}
