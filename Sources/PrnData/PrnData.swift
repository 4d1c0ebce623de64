/// Data sets for prn: idx (MNIST, Fashion-MNIST) and CIFAR-10 readers, synthetic data, batching
/// and augmentation.
///
/// The entry point is `Dataset.load(_:validation:)`, which resolves a `DataSource`, reads and
/// validates its files, normalizes the pixels and caches the result process-wide. Training and
/// scoring code then iterate `DataSplit.batches(...)` or take `DataSplit.subset(count:seed:)`.
///
/// ```swift
/// let data = try Dataset.load(.fashion())            // 60000 / 10000, [1, 28, 28]
/// for batch in try data.train.batches(size: 64, seed: 1, epoch: 0) {
///     // batch.images: [64, 1, 28, 28], batch.labels: [Int]
/// }
/// ```
public enum PrnData {}
