/// What a convolution does to one group of samples around its product, shared by the dense path
/// (`Conv.swift`, GEMMs) and the sparse one (`Conv+Sparse.swift`, products over the kept
/// weights): both build the same column matrices, lay out the same operands and scatter the
/// same results, so the sparse results can match the dense ones bit for bit.
extension ConvGeometry {
    /// `y = conv2d(x, W)`, group by group: each group's im2col `col[K, G·P]`, then
    /// `product(col, cols, out, threads)`, which must write `out[O, cols] = W · col` (row stride
    /// `cols`, `threads` as for a GEMM), then `out` regrouped into `y`'s layout.
    func forward(x: UnsafeBufferPointer<Float>, y: UnsafeMutableBufferPointer<Float>,
                 product: (_ col: UnsafePointer<Float>, _ cols: Int, _ out: UnsafeMutablePointer<Float>, _ threads: Int?) -> Void) {
        let taps = image.window.kernelH * image.window.kernelW
        forEachColumnGroup { samples, cols, col, staging, threads in
            forEachSampleChannels(samples.count, threads: threads) { b, channels in
                image.im2col(x.baseAddress! + (samples.lowerBound + b) * sampleInputCount,
                             into: col + channels.lowerBound * taps * cols + b * image.outputPlane, ld: cols, channels: channels)
            }
            // One sample's product is already in the tensor's layout; a group's is [O, G·P] and
            // is regrouped to [G, O, P] after.
            let direct = samples.count == 1
            let target = y.baseAddress! + samples.lowerBound * sampleOutputCount
            product(UnsafePointer(col), cols, direct ? target : staging, threads)
            if !direct {
                ConvGeometry.regroup(staging, target, toChannelMajor: false, samples: samples.count,
                                     channels: outChannels, plane: image.outputPlane, threads: threads)
            }
        }
    }

    /// `dx = ∂⟨conv2d(x, W), gy⟩/∂x`, group by group: each group's `gy` channel-major, then
    /// `product(gy, cols, col, threads)`, which must write `col[K, cols] = Wᵀ · gy` (row stride
    /// `cols`), then col2im of `col` into `dx`.
    func inputGradient(gy: UnsafeBufferPointer<Float>, dx: UnsafeMutableBufferPointer<Float>,
                       product: (_ gy: UnsafePointer<Float>, _ cols: Int, _ col: UnsafeMutablePointer<Float>, _ threads: Int?) -> Void) {
        let taps = image.window.kernelH * image.window.kernelW
        forEachColumnGroup { samples, cols, col, staging, threads in
            let gGroup = channelMajor(gy.baseAddress! + samples.lowerBound * sampleOutputCount,
                                      samples: samples.count, scratch: staging, threads: threads)
            product(gGroup, cols, col, threads)
            forEachSampleChannels(samples.count, threads: threads) { b, channels in
                image.col2im(col + channels.lowerBound * taps * cols + b * image.outputPlane, ld: cols,
                             into: dx.baseAddress! + (samples.lowerBound + b) * sampleInputCount, channels: channels)
            }
        }
    }

    /// Runs `body(b, channels)` so that every input channel of each of a group's `samples` is
    /// visited once (`b` counted from the group's first sample; `channels` a run of one sample's
    /// channels). When the group runs alone (`threads` nil, its GEMM too has all the threads:
    /// a batch small enough for one group, as VGG's 2 × 2 layers at batch 128) the runs are
    /// split across the threads, else they run in order on this one. Each run reads and writes
    /// only its own rows and planes, so the split changes no result.
    private func forEachSampleChannels(_ samples: Int, threads: Int?, _ body: (_ b: Int, _ channels: Range<Int>) -> Void) {
        let channels = image.channels
        Parallel.forEach(samples * channels, threads: threads ?? Parallel.threads) { range in
            var q = range.lowerBound
            while q < range.upperBound {
                let b = q / channels, c = q - b * channels
                let end = Swift.min(range.upperBound, (b + 1) * channels)
                body(b, c..<c + (end - q))
                q = end
            }
        }
    }

    /// `SampleGroups.forEach` with each slot's scratch cut in two: a group's column matrix `col`
    /// (`patch × cols`, `cols` its samples' output pixels) and, after it, room for an
    /// `outChannels × cols` matrix (`staging`).
    private func forEachColumnGroup(_ body: (_ samples: Range<Int>, _ cols: Int, _ col: UnsafeMutablePointer<Float>,
                                             _ staging: UnsafeMutablePointer<Float>, _ threads: Int?) -> Void) {
        sampleGroups.forEach(scratch: (image.patch + outChannels) * groupColumns) { samples, scratch, threads in
            let cols = samples.count * image.outputPlane
            body(samples, cols, scratch, scratch + image.patch * cols, threads)
        }
    }

    /// The operands of a group's weight gradient: the im2col of its samples at the start of
    /// `scratch` (`patch × cols`, row stride `cols`; with `channels`, only those input channels'
    /// rows) and its output gradient channel-major after them.
    func weightGradientOperands(_ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>, samples: Range<Int>,
                                channels: Range<Int>? = nil,
                                scratch: UnsafeMutablePointer<Float>) -> (col: UnsafePointer<Float>, gradient: UnsafePointer<Float>, cols: Int) {
        let cols = samples.count * image.outputPlane
        let sampleIn = sampleInputCount, sampleOut = sampleOutputCount
        let rows = (channels?.count ?? image.channels) * (image.patch / image.channels)
        for (b, n) in samples.enumerated() {
            image.im2col(x + n * sampleIn, into: scratch + b * image.outputPlane, ld: cols, channels: channels)
        }
        let gradient = channelMajor(gy + samples.lowerBound * sampleOut, samples: samples.count,
                                    scratch: scratch + rows * cols)
        return (UnsafePointer(scratch), gradient, cols)
    }

    /// A group's slice of a `[N, O, P]` tensor as the `[O, G·P]` matrix the GEMMs use: the slice
    /// itself for one sample, else a regrouped copy in `scratch` (on `threads`, all when nil).
    func channelMajor(_ slice: UnsafePointer<Float>, samples: Int, scratch: UnsafeMutablePointer<Float>,
                      threads: Int? = 1) -> UnsafePointer<Float> {
        if samples == 1 { return slice }
        ConvGeometry.regroup(slice, scratch, toChannelMajor: true,
                             samples: samples, channels: outChannels, plane: image.outputPlane, threads: threads)
        return UnsafePointer(scratch)
    }

    /// Copies a group between the sample-major layout `[G, O, P]` of tensors and the
    /// channel-major layout `[O, G·P]` of the GEMMs (in either direction), the channels split
    /// across `threads` (all when nil).
    static func regroup(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, toChannelMajor: Bool,
                        samples: Int, channels: Int, plane: Int, threads: Int?) {
        Parallel.forEach(channels, threads: threads) { range in
            for o in range {
                for b in 0..<samples {
                    let sampleMajor = (b * channels + o) * plane
                    let channelMajor = (o * samples + b) * plane
                    let (from, to) = toChannelMajor ? (sampleMajor, channelMajor) : (channelMajor, sampleMajor)
                    FloatRun.copy(src + from, to: dst + to, count: plane)
                }
            }
        }
    }
}
