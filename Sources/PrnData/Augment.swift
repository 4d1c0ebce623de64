import PrnKernel

/// Training-time augmentation for images: random crop with zero padding, then random horizontal
/// flip (torchvision's `RandomCrop(size, padding: 4)` + `RandomHorizontalFlip(0.5)`, the CIFAR
/// recipe in METHODS.md).
///
/// The crop takes an `H×W` window of the image padded by `padding` on every side, at an offset
/// `(dy, dx)` uniform in `0...2·padding`; so output pixel `(y, x)` is input pixel
/// `(y + dy − padding, x + dx − padding)`, or padding where that falls outside. A flip then mirrors
/// the row: `x → W − 1 − x`.
///
/// Padding is a *black pixel*, not the number 0: torchvision pads before `Normalize`, and prn
/// stores normalized data, so the pad value per channel is `(0 − mean) / std`.
///
/// The random choices for an example depend only on the seed, the epoch and the example's position
/// in that epoch's order (one Philox block each), never on the batch size or the thread count.
public struct Augmentation: Sendable, Hashable, CustomStringConvertible {
    /// Pixels of padding on each side before cropping; 0 disables the crop.
    public var padding: Int
    /// Whether to mirror horizontally with probability 1/2.
    public var flip: Bool

    /// Crop with `padding` pixels of padding (0: no crop), and flip when `flip`.
    public init(padding: Int = 4, flip: Bool = true) {
        self.padding = padding
        self.flip = flip
    }

    /// CIFAR-10's training augmentation: pad 4, crop back to 32×32, flip with p = 0.5.
    public static let cifar = Augmentation(padding: 4, flip: true)

    public var description: String { "crop (pad \(padding)), \(flip ? "flip" : "no flip")" }

    /// The random choices for one example.
    public struct Draw: Sendable, Equatable {
        /// Crop offsets in the padded image, each in `0...2·padding`.
        public let dy: Int, dx: Int
        /// Whether the crop is mirrored.
        public let flipped: Bool
    }

    /// The draw for the example at `position` of an epoch's order, from that epoch's generator.
    public func draw(_ rng: RNG, position: Int) -> Draw {
        let (w0, w1, w2, _) = rng.philox(block: UInt64(position))
        let span = UInt64(2 * padding + 1)
        // Multiply-shift maps a 32-bit word to 0..<span without modulo bias worth measuring.
        let dy = Int((UInt64(w0) &* span) >> 32), dx = Int((UInt64(w1) &* span) >> 32)
        return Draw(dy: dy, dx: dx, flipped: flip && (w2 >> 31) == 1)
    }

    /// Checks that examples of `shape` can be augmented: they must be `[C, H, W]` images.
    func validate(exampleShape shape: [Int]) throws {
        guard shape.count == 3, shape.allSatisfy({ $0 > 0 }) else {
            throw DataError("augmentation needs images of shape [C, H, W], these examples are \(shape)")
        }
        guard padding >= 0, padding <= 1 << 16 else {
            throw DataError("augmentation padding must be in 0...65536, got \(padding)")
        }
    }

    /// Writes the augmented `[C, H, W]` image `source` to `out`; `fill[c]` is the pad value.
    func apply(_ draw: Draw, source: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
               fill: [Float], into out: UnsafeMutablePointer<Float>) {
        let shiftY = draw.dy - padding, shiftX = draw.dx - padding
        // Output columns whose source column lies inside the image, before any flip.
        let lo = max(0, -shiftX), hi = min(width, width - shiftX)
        for c in 0..<channels {
            let pad = fill[c]
            for y in 0..<height {
                let dst = out + (c * height + y) * width
                let sy = y + shiftY
                guard sy >= 0, sy < height, lo < hi else {
                    dst.update(repeating: pad, count: width)
                    continue
                }
                let src = source + (c * height + sy) * width
                if draw.flipped {
                    // Flipped output column x shows crop column W-1-x.
                    for x in 0..<width {
                        let cx = width - 1 - x
                        dst[x] = (cx >= lo && cx < hi) ? src[cx + shiftX] : pad
                    }
                } else {
                    if lo > 0 { dst.update(repeating: pad, count: lo) }
                    (dst + lo).update(from: src + lo + shiftX, count: hi - lo)
                    if hi < width { (dst + hi).update(repeating: pad, count: width - hi) }
                }
            }
        }
    }
}
