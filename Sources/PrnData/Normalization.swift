import PrnKernel

/// Per-channel pixel normalization: a byte `p` in channel `c` becomes `(p / 255 - mean[c]) / std[c]`.
///
/// Pixels are scaled to [0, 1] first, as torchvision's `ToTensor` does, so the constants are the
/// ones the papers quote (METHODS.md, Training).
public struct Normalization: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Mean per channel (one value for grayscale).
    public let mean: [Float]
    /// Standard deviation per channel.
    public let std: [Float]

    /// Constants per channel; one value each for grayscale data.
    public init(mean: [Float], std: [Float]) {
        precondition(!mean.isEmpty && mean.count == std.count, "one mean and one std per channel")
        self.mean = mean
        self.std = std
    }

    /// MNIST: mean 0.1307, std 0.3081.
    public static let mnist = Normalization(mean: [0.1307], std: [0.3081])
    /// Fashion-MNIST: mean 0.2860, std 0.3530.
    public static let fashionMNIST = Normalization(mean: [0.2860], std: [0.3530])
    /// CIFAR-10, per channel (R, G, B).
    public static let cifar10 = Normalization(mean: [0.491, 0.482, 0.447], std: [0.247, 0.243, 0.262])
    /// No change: for synthetic data, which is generated in standardized units.
    public static let identity = Normalization(mean: [0], std: [1])

    /// The number of channels the constants cover.
    public var channels: Int { mean.count }

    /// The normalized value of pixel byte `pixel` in `channel`.
    @inline(__always)
    public func value(pixel: UInt8, channel: Int) -> Float {
        (Float(pixel) / 255 - mean[channel]) / std[channel]
    }

    /// The normalized value of a black (zero) pixel in `channel`: what zero padding becomes
    /// once data is normalized.
    public func zero(channel: Int) -> Float { value(pixel: 0, channel: channel) }

    public var description: String {
        func list(_ v: [Float]) -> String {
            v.count == 1 ? "\(v[0])" : "(" + v.map { "\($0)" }.joined(separator: ", ") + ")"
        }
        return self == .identity ? "none" : "mean \(list(mean)) std \(list(std))"
    }

    /// Normalizes `examples` images of `channels × plane` bytes each into `out`.
    ///
    /// Example `e` starts at `source + e * stride` (CIFAR records interleave a label byte, so the
    /// stride can exceed the image size). A 256-entry table per channel makes this a lookup per
    /// byte; planes are spread over the cores, and each output element depends only on its byte,
    /// so the result does not depend on the thread count.
    func normalize(_ source: UnsafePointer<UInt8>, examples: Int, stride: Int, channels: Int, plane: Int,
                   into out: UnsafeMutablePointer<Float>) {
        precondition(channels == self.channels || self.channels == 1, "normalization has \(self.channels) channels, data \(channels)")
        var table = [Float](repeating: 0, count: 256 * channels)
        for c in 0..<channels {
            for p in 0..<256 { table[c * 256 + p] = value(pixel: UInt8(p), channel: self.channels == 1 ? 0 : c) }
        }
        let planes = examples * channels
        table.withUnsafeBufferPointer { lookup in
            let lookup = lookup.baseAddress!
            Parallel.forEach(planes, grain: max(1, (1 << 16) / max(plane, 1))) { range in
                for index in range {
                    let e = index / channels, c = index % channels
                    let src = source + e * stride + c * plane
                    let dst = out + index * plane
                    let row = lookup + c * 256
                    for i in 0..<plane { dst[i] = row[Int(src[i])] }
                }
            }
        }
    }
}
