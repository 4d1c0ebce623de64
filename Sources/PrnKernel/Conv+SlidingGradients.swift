// Both gradients of a stride-1 sliding convolution in one pass (`Tensor.conv2dGradients`, what a
// backward pass asks for when x and w both need gradients): the weight gradient's threads
// (`Conv+SlidingWeightGradient.swift`) compute the input gradient of their own samples too. Per
// group of samples, each sample's gy is copied once into the shifted copies the input gradient's
// kernel reads (the adjoint plan's `fillShifted`) and its dx planes are computed from them while
// they are in cache; the middle copies (shift 0: gy's rows framed by zero rows, zeros past the
// plane) then serve as the weight gradient's gy rows. So gy is read from memory once instead of
// twice, the weight gradient's own padded copy of gy's rows is gone, and the two products share
// one parallel region instead of two joined one after the other.
//
// Each dx element is the input gradient's chain and each dw lane the weight gradient's chain
// (the parts and their order do not change; where a lane's chain pauses between groups changes
// no bit), whichever thread or group computes them: the same bits as the two products apart.

/// The input gradient that the weight gradient's pass computes beside it: the adjoint plan (the
/// convolution of gy with the flipped, channel-swapped weight), its packed weight, and dx.
struct SlidingInputGradient {
    let plan: SlidingPlan
    let packed: UnsafePointer<Float>
    let dx: UnsafeMutablePointer<Float>

    /// dx of `samples` (a group of at most `group`), through their shifted copies of gy written
    /// into `copies` channel major (`[o][sample]`, as the weight gradient reads gy's rows); returns
    /// where gy's rows lie in them.
    func run(gy: UnsafePointer<Float>, samples: Range<Int>, copies: UnsafeMutablePointer<Float>, group: Int) -> GradientRows {
        let perChannel = plan.copiesPerChannel * plan.shiftedCount, channelStride = group * perChannel
        for (i, n) in samples.enumerated() {
            let own = copies + i * perChannel
            plan.fillShifted(gy + n * plan.inChannels * plan.plane, into: own, channelStride: channelStride)
            plan.forwardSample(own, channelStride: channelStride, packed: packed, y: dx + n * plan.outChannels * plan.plane)
        }
        // Copy 1 (shift 0) holds row r of gy at element (r + 1)·W, zeros after the plane: more than
        // the at most 15 that pad the last chunk (`shiftedCount`).
        return GradientRows(base: copies + plan.shiftedCount + plan.width, sampleStride: perChannel, channelStride: channelStride)
    }
}

extension SlidingPlan {
    /// Whether `Tensor.conv2dGradients` computes both products in one pass: on stride 1, where a
    /// sample's plane fills a weight-gradient group (at least 1024 pixels, `gradientGroupSize`).
    /// There gy's rows are read in place apart and from the copies together, so the pass only saves
    /// work: ResNet-20's 16 → 16 on 32×32 took 0.93–0.99× the time of the two products apart
    /// (`prn bench conv`, product=gradients, 1 and 2 threads). Where a group holds several samples
    /// their gy copies are 3× the padded rows the weight gradient reads apart, and the pass lost:
    /// 1.05–1.10× on ResNet-20's 32 → 32 on 16×16 and 1.04–1.07× on VGG-11/4's 16 → 32 on 16×16,
    /// whatever the group size (256 to 1024 pixels).
    var fusesGradients: Bool { stride == 1 && !usesPlaneMap && gradientGroupSize == 1 }

    /// `(conv2dInputGrad(gy, w), conv2dWeightGrad(x, gy))` in one pass, on stride 1 and planes
    /// larger than 2×2 (`fusesGradients` says where it pays).
    static func gradients(_ x: Tensor, _ gy: Tensor, _ weight: Tensor, _ geo: ConvGeometry) -> (input: Tensor, weight: Tensor) {
        let layer = SlidingPlan(geo)
        precondition(layer.stride == 1 && !layer.usesPlaneMap, "the sliding gradients' pass needs stride 1 and a plane larger than 2×2")
        let plan = layer.adjoint
        let packed = weight.scalars.withUnsafeBufferPointer { plan.packedWeight($0.baseAddress!, adjoint: true) }
        var dw: Tensor?
        let dx = Tensor.build(geo.image.inputShape) { dx in
            dw = Tensor.build(weight.shape) { dw in
                x.scalars.withUnsafeBufferPointer { x in
                    gy.scalars.withUnsafeBufferPointer { g in
                        packed.withUnsafeBufferPointer { p in
                            let beside = SlidingInputGradient(plan: plan, packed: p.baseAddress!, dx: dx.baseAddress!)
                            layer.weightGradient(x: x.baseAddress!, gy: g.baseAddress!, dw: dw.baseAddress!, inputGradient: beside)
                        }
                    }
                }
            }
        }
        return (dx, dw!)
    }
}
