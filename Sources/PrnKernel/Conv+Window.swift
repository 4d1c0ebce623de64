/// A 2-D sliding window over the last two axes of an NCHW tensor: kernel size, stride and zero
/// padding, per axis.
///
/// Convolution and pooling share it. Their public API takes one stride and one padding for both
/// axes (all the model zoo needs); the kernel may be non-square (a conv takes it from the weight).
/// A per-axis public overload would only have to build a different `Window2D`.
///
/// Along an axis of length `n`, output index `i` reads inputs `i·stride − pad + t` for taps
/// `t ∈ 0..<kernel`, and the output length is `⌊(n + 2·pad − kernel) / stride⌋ + 1`.
struct Window2D: Hashable {
    let kernelH: Int, kernelW: Int
    let strideH: Int, strideW: Int
    let padH: Int, padW: Int

    init(kernelH: Int, kernelW: Int, stride: Int, padding: Int) {
        self.kernelH = kernelH
        self.kernelW = kernelW
        strideH = stride
        strideW = stride
        padH = padding
        padW = padding
    }

    /// Output length along one axis; nil when the kernel does not fit in the padded input.
    static func outputLength(_ n: Int, kernel: Int, stride: Int, pad: Int) -> Int? {
        let span = n + 2 * pad - kernel
        return span < 0 ? nil : span / stride + 1
    }

    /// The output indices `i ∈ 0..<outLength` whose tap `t` reads inside `0..<n`, i.e.
    /// `0 ≤ i·stride − pad + t < n`. Everything outside this range reads zero padding.
    @inline(__always)
    static func validOutputs(tap t: Int, n: Int, outLength: Int, stride: Int, pad: Int) -> Range<Int> {
        let first = pad - t          // smallest i·stride allowed
        let last = n - 1 + pad - t   // largest i·stride allowed
        guard last >= 0 else { return 0..<0 }
        let lo = first <= 0 ? 0 : (first + stride - 1) / stride
        let hi = Swift.min(last / stride + 1, outLength)
        return lo < hi ? lo..<hi : 0..<0
    }

    /// The inputs `0..<n` that output `i`'s window covers (its taps clipped to the input).
    @inline(__always)
    static func coveredInputs(output i: Int, n: Int, kernel: Int, stride: Int, pad: Int) -> Range<Int> {
        let start = i * stride - pad
        return Swift.max(start, 0)..<Swift.min(start + kernel, n)
    }
}

/// An NCHW input seen through a `Window2D`: the sizes every conv and pooling kernel loops over.
struct WindowGeometry {
    let batch: Int, channels: Int, height: Int, width: Int
    let window: Window2D
    let outHeight: Int, outWidth: Int

    /// Validates `input` (rank 4, non-empty planes) against `window`; `op` names the operation in
    /// errors.
    init(input: [Int], window: Window2D, op: String) throws {
        guard input.count == 4 else {
            throw ShapeError("\(op) needs an input of shape [batch, channels, height, width], got \(input)")
        }
        guard window.strideH > 0, window.strideW > 0 else {
            throw ShapeError("\(op): stride must be positive, got \(window.strideH)×\(window.strideW)")
        }
        guard window.padH >= 0, window.padW >= 0 else {
            throw ShapeError("\(op): padding must not be negative, got \(window.padH)×\(window.padW)")
        }
        guard window.kernelH > 0, window.kernelW > 0 else {
            throw ShapeError("\(op): kernel must be at least 1×1, got \(window.kernelH)×\(window.kernelW)")
        }
        _ = try Shape.checkedCount(input)
        guard let oh = Window2D.outputLength(input[2], kernel: window.kernelH, stride: window.strideH, pad: window.padH),
              let ow = Window2D.outputLength(input[3], kernel: window.kernelW, stride: window.strideW, pad: window.padW)
        else {
            throw ShapeError("\(op): kernel \(window.kernelH)×\(window.kernelW) is larger than the input "
                             + "\(input[2])×\(input[3]) padded by \(window.padH)×\(window.padW)")
        }
        batch = input[0]
        channels = input[1]
        height = input[2]
        width = input[3]
        self.window = window
        outHeight = oh
        outWidth = ow
    }

    var inputShape: [Int] { [batch, channels, height, width] }
    var inputPlane: Int { height * width }
    var outputPlane: Int { outHeight * outWidth }
    /// Number of (sample, channel) planes.
    var planes: Int { batch * channels }
}
