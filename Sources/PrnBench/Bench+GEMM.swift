import Dispatch
import Foundation
@_spi(Bench) import PrnKernel

/// Throughput benchmarks, printed by `prn bench`.
public enum Benchmarks {
    /// GFLOP/s of `GEMM.sgemm` on square row-major matrices (`C = A·B`, beta 0), for each size and
    /// thread count; one line per result through `report`, e.g. `gemm n=1024 threads=1 gflops=88.12`,
    /// after one naming the micro-kernel tiling in use (`gemm tiling=wide wide/narrow=0.52`).
    ///
    /// Each configuration runs once to warm up, then repeats until at least 0.5 s has passed and
    /// it has run 8 times; the best rate is reported (the machine is shared, so the best is the
    /// least disturbed run).
    /// A product is `2·n³` floating-point operations. Then the same for the products a training
    /// step makes (`GEMMShape.training`, unless `trainingShapes` is false): `gemm
    /// shape=vgg16.conv2.forward m=… n=… k=… transA=0 transB=0 threads=1 gflops=…`; Winograd's
    /// sequences of α² products add `count=36 packedA=1`, and on t threads run t sequences side
    /// by side, each on one thread, as a step does (the threads take groups of samples).
    /// `BENCH_SHAPES=vgg16.conv9,vgg16.conv6.forward` times only the training products whose
    /// names start with one of those, whatever `trainingShapes` says. With `BENCH_AB` set, an
    /// in-process A/B comparison instead (`gemmAB`).
    public static func gemm(sizes: [Int] = [256, 512, 1024, 2048], threads: [Int] = [1, 2],
                            trainingShapes: Bool = true, report: (String) -> Void) {
        report("gemm tiling=\(GEMM.tilingDescription)")
        if let spec = ProcessInfo.processInfo.environment["BENCH_AB"] {
            gemmAB(spec, sizes: sizes, threads: threads, report: report)
            return
        }
        for n in sizes where n > 0 {
            let operands = GEMMOperands(.square(n))
            for t in threads where t > 0 {
                _ = GEMM.takeCallTimes()
                report("gemm n=\(n) threads=\(t) gflops=\(formatted(operands.gflops(threads: t)))")
                reportCallTimes("n=\(n) threads=\(t)", report: report)
            }
        }
        for shape in GEMMShape.selectedTraining(byDefault: trainingShapes) {
            let operands = GEMMOperands(shape)
            for t in threads where t > 0 {
                _ = GEMM.takeCallTimes()
                let gflops = operands.gflops(threads: t)
                report("gemm shape=\(shape.name) m=\(shape.m) n=\(shape.n) k=\(shape.k) transA=\(shape.transA ? 1 : 0) "
                       + "transB=\(shape.transB ? 1 : 0)\(shape.sequence) threads=\(t) gflops=\(formatted(gflops))")
                reportCallTimes("shape=\(shape.name) threads=\(t)", report: report)
            }
        }
    }

    /// With `PRN_GEMM_TIMING=1`, where the time of the calls made since the last
    /// `GEMM.takeCallTimes` went: for the fastest and the median call (by wall time), each
    /// worker's start after a fork, packing, multiplying and wait at the join, in µs, e.g.
    /// `gemm-times n=2048 threads=2 calls=9 fastest wall=95000 w0 start=3 pack=1800 multiply=90000 wait=200 w1 …`.
    static func reportCallTimes(_ label: String, report: (String) -> Void) {
        let calls = GEMM.takeCallTimes().sorted { $0.wall < $1.wall }
        guard !calls.isEmpty else { return }
        for (name, call) in [("fastest", calls[0]), ("median", calls[calls.count / 2])] {
            let µs = { (seconds: Double) in String(Int((seconds * 1e6).rounded())) }
            let workers = call.workers.enumerated().map { w, times in
                "w\(w) start=\(µs(times.start)) pack=\(µs(times.pack)) multiply=\(µs(times.multiply)) wait=\(µs(times.wait))"
            }
            report("gemm-times \(label) calls=\(calls.count) \(name) wall=\(µs(call.wall)) " + workers.joined(separator: " "))
        }
    }

    /// The GEMM driver's knobs as the environment sets them (`GEMM.Knobs`, "base") against the
    /// knobs with `spec`'s variables added ("variant"), e.g. `PRN_GEMM_CPREFETCH=0` or
    /// `PRN_GEMM_PREFETCH=0,PRN_GEMM_PRIVATE_COPY_LIMIT=0`, in one process, on the square `sizes`
    /// and the training products `BENCH_SHAPES` names. For each product and thread count,
    /// `BENCH_AB_ROUNDS` (12) rounds each time both settings, best of 3 calls, taking turns at
    /// going first; one line with the medians of the rounds' rates, the median of the rounds'
    /// ratios and how many rounds the variant won:
    /// `gemm ab=PRN_GEMM_CPREFETCH=0 n=1024 threads=2 base=130.1 variant=127.3 ratio=0.98 variant-wins=4/12`.
    /// On this project's shared VMs the host's speed drifts by more than the effects such a knob
    /// has between separate runs; alternating within one process is what resolves them.
    static func gemmAB(_ spec: String, sizes: [Int], threads: [Int], report: (String) -> Void) {
        let environment = ProcessInfo.processInfo.environment
        var changed = environment
        for assignment in spec.split(separator: ",") {
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, GEMM.Knobs.names.contains(parts[0]) else {
                report("gemm ab: '\(assignment)' is not NAME=VALUE with NAME one of \(GEMM.Knobs.names.sorted().joined(separator: ", "))")
                return
            }
            changed[parts[0]] = parts[1]
        }
        let knobs = [GEMM.Knobs(environment: environment), GEMM.Knobs(environment: changed)]
        let rounds = environment["BENCH_AB_ROUNDS"].flatMap { Int($0) } ?? 12
        let shapes = sizes.filter { $0 > 0 }.map(GEMMShape.square) + GEMMShape.selectedTraining(byDefault: false)
        for shape in shapes {
            for t in threads where t > 0 {
                var rates: [[Double]] = [[], []], ratios: [Double] = [], wins = 0
                let operands = GEMMOperands(shape)
                for round in 0..<rounds {
                    var rate = [0.0, 0.0]
                    for side in round % 2 == 0 ? [0, 1] : [1, 0] {
                        rate[side] = operands.gflops(threads: t, knobs: knobs[side], minimumTotal: 0, minimumRuns: 3)
                        rates[side].append(rate[side])
                    }
                    ratios.append(rate[1] / rate[0])
                    if rate[1] > rate[0] { wins += 1 }
                }
                let name = shape.name.isEmpty ? "n=\(shape.m)" : "shape=\(shape.name)"
                report("gemm ab=\(spec) \(name) threads=\(t) base=\(formatted(median(rates[0]))) "
                       + "variant=\(formatted(median(rates[1]))) ratio=\(formatted(median(ratios))) variant-wins=\(wins)/\(rounds)")
            }
        }
    }

    /// Runs `body` once to warm up, then until `minimumTotal` seconds have passed and it has run
    /// at least `minimumRuns` times; the fastest run. The count matters for large products: at
    /// n = 2048 half a second is two calls, too few for the best to miss the host's slow spells.
    static func bestTime(minimumTotal: Double, minimumRuns: Int = 8, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity, total = 0.0, runs = 0
        repeat {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            best = min(best, seconds)
            total += seconds
            runs += 1
        } while total < minimumTotal || runs < minimumRuns
        return best
    }

    /// The median of `values` (the mean of the middle two for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted(), middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Two decimals, without Foundation's locale-dependent formatting.
    static func formatted(_ x: Double) -> String {
        let hundredths = Int((x * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

/// Random operands of a product (or of `shape.count` products with their own operands), stored as
/// the autograd stores them (A packed beforehand when `shape.packedA`), and room for C. A
/// sequence has B and C for each of `copies` threads, which share A (as the threads share
/// Winograd's transformed weights, each with its own group of samples).
final class GEMMOperands {
    let shape: GEMMShape
    let a: [Float], b: [Float]
    var c: [Float]
    let packedA: [GEMM.PackedA]
    let copies: Int

    init(_ shape: GEMMShape, copies: Int = 2) {
        self.shape = shape
        self.copies = shape.count == 1 ? 1 : copies
        var rng = RNG(seed: UInt64(shape.m * shape.n + shape.k))
        let products = shape.count * self.copies
        (a, b) = (rng.normal(count: shape.count * shape.m * shape.k), rng.normal(count: products * shape.k * shape.n))
        c = [Float](repeating: 0, count: products * shape.m * shape.n)
        packedA = shape.packedA ? a.withUnsafeBufferPointer { GEMM.PackedA.packing($0.baseAddress!, count: shape.count, m: shape.m, k: shape.k) } : []
    }

    /// GFLOP/s of the best time of one product (`Benchmarks.bestTime`) with the GEMM driver's
    /// `knobs`; of a sequence, of `threads` threads each running the sequence on its own B and C.
    func gflops(threads: Int, knobs: GEMM.Knobs = .environment, minimumTotal: Double = 0.5, minimumRuns: Int = 8) -> Double {
        let (m, n, k, transA, transB, count) = (shape.m, shape.n, shape.k, shape.transA, shape.transB, shape.count)
        let lanes = count == 1 ? 1 : Swift.min(threads, copies)
        let seconds = a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    let (a, b, c) = (a.baseAddress!, b.baseAddress!, c.baseAddress!)
                    return Benchmarks.bestTime(minimumTotal: minimumTotal, minimumRuns: minimumRuns) {
                        Parallel.forEach(lanes, threads: lanes) { range in
                            for lane in range {
                                for i in 0..<count {
                                    let (b, c) = (b + (lane * count + i) * k * n, c + (lane * count + i) * m * n)
                                    let threads = count == 1 ? threads : 1
                                    if shape.packedA {
                                        GEMM.sgemm(packedA: packedA[i], transB: transB, n: n, b: b, ldb: transB ? k : n,
                                                   beta: 0, c: c, ldc: n, threads: threads, knobs: knobs)
                                    } else {
                                        GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1,
                                                   a: a + i * m * k, lda: transA ? m : k, b: b, ldb: transB ? k : n,
                                                   beta: 0, c: c, ldc: n, threads: threads, knobs: knobs)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return 2 * Double(lanes * count) * Double(m) * Double(n) * Double(k) / seconds / 1e9
    }
}

/// A product a training step makes: its name, sizes and transposes.
public struct GEMMShape: Sendable {
    public let name: String, m: Int, n: Int, k: Int, transA: Bool, transB: Bool
    /// Products in a row, each with its own operands (Winograd's α² positions), and whether A
    /// comes packed beforehand (its transformed weights).
    public var count = 1, packedA = false

    /// What a result line adds for a sequence of products: ` count=36 packedA=1`, or nothing.
    var sequence: String { count == 1 && !packedA ? "" : " count=\(count) packedA=\(packedA ? 1 : 0)" }

    /// The training products `BENCH_SHAPES=vgg16.conv9,resnet20` names (by prefix); when it is
    /// not set, all of them if `byDefault`, else none.
    static func selectedTraining(byDefault: Bool) -> [GEMMShape] {
        guard let listed = ProcessInfo.processInfo.environment["BENCH_SHAPES"] else { return byDefault ? training : [] }
        let prefixes = listed.split(separator: ",").map(String.init)
        return training.filter { shape in prefixes.contains { shape.name.hasPrefix($0) } }
    }

    /// `C[n×n] = A·B`, no transposes (the name is empty).
    static func square(_ n: Int) -> GEMMShape {
        GEMMShape(name: "", m: n, n: n, k: n, transA: false, transB: false)
    }

    /// The three products of one layer: forward `y = op(A)·op(B)` and the two gradients.
    static func layer(_ name: String, forward m: Int, _ n: Int, _ k: Int, transA: Bool, transB: Bool) -> [GEMMShape] {
        // y[m×n] = op(A)[m×k]·op(B)[k×n]; dA = dy·op(B)ᵀ, dB = op(A)ᵀ·dy, written with the
        // operands as stored (as the autograd does: transposes are flags, never copies).
        [GEMMShape(name: name + ".forward", m: m, n: n, k: k, transA: transA, transB: transB),
         transA ? GEMMShape(name: name + ".grad_a", m: k, n: m, k: n, transA: transB, transB: true)
                : GEMMShape(name: name + ".grad_a", m: m, n: k, k: n, transA: false, transB: !transB),
         transB ? GEMMShape(name: name + ".grad_b", m: n, n: k, k: m, transA: true, transB: transA)
                : GEMMShape(name: name + ".grad_b", m: k, n: n, k: m, transA: !transA, transB: false)]
    }

    /// LeNet-300-100's first layer at batch 64 and 128 (`x · Wᵀ`), and the im2col products of
    /// VGG-16 and ResNet-20 layers on CIFAR (`W[O×K] · col[K×N]`, N the columns of a group of
    /// samples, about 512; `Conv.swift`).
    public static let training: [GEMMShape] =
        layer("lenet300.fc1.b64", forward: 64, 300, 784, transA: false, transB: true)
        + layer("lenet300.fc1.b128", forward: 128, 300, 784, transA: false, transB: true)
        + layer("vgg16.conv2", forward: 64, 1024, 576, transA: false, transB: false)
        + layer("vgg16.conv4", forward: 128, 512, 1152, transA: false, transB: false)
        + layer("vgg16.conv6", forward: 256, 512, 2304, transA: false, transB: false)
        + layer("vgg16.conv9", forward: 512, 512, 4608, transA: false, transB: false)
        + layer("resnet20.stage1", forward: 16, 1024, 144, transA: false, transB: false)
        + layer("resnet20.stage2", forward: 32, 512, 288, transA: false, transB: false)
        + layer("resnet20.stage3", forward: 64, 512, 576, transA: false, transB: false)
        + winograd

    /// The α² products of one group of samples of a Winograd layer that `PRN_GEMM_TIMING=1 prn
    /// bench train` (`gemm-call` lines) finds heavy in a step of VGG-16 and ResNet-20 on two
    /// threads: forward (and input gradient, the same product with the channels swapped)
    /// `M[ξ] (O × T) = U[ξ] (O × C, packed once per step) · V[ξ] (C × T)`, and weight gradient
    /// `S[ξ] (O × C) = Z[ξ] (O × T) · V[ξ]ᵀ`, for T tiles of a group, ξ over the 36 positions
    /// of F(4×4) (16 of F(2×2)). At session 21's main, 2 threads: VGG-16 conv9/10 forward
    /// 202 ms of thread time per step (80 GFLOP/s), conv6/7 forward 112 (86), conv9/10 weight
    /// gradient 99 (81), conv6/7's 75 (64), conv2 forward 69 (70), conv4 forward 56 (86), conv2
    /// weight gradient 36 (68), conv4's 34 (72); ResNet-20's 64 → 64 layers on 8×8 (the shapes
    /// of VGG-16's conv2) forward 22 (69) and weight gradient 18 (41).
    static let winograd: [GEMMShape] = [
        GEMMShape(name: "vgg16.conv9.winograd.forward", m: 512, n: 64, k: 512, transA: false, transB: false, count: 36, packedA: true),
        GEMMShape(name: "vgg16.conv9.winograd.grad_w", m: 512, n: 512, k: 128, transA: false, transB: true, count: 36),
        GEMMShape(name: "vgg16.conv6.winograd.forward", m: 256, n: 256, k: 256, transA: false, transB: false, count: 36, packedA: true),
        GEMMShape(name: "vgg16.conv6.winograd.grad_w", m: 256, n: 256, k: 256, transA: false, transB: true, count: 36),
        GEMMShape(name: "vgg16.conv4.winograd.forward", m: 128, n: 64, k: 128, transA: false, transB: false, count: 36, packedA: true),
        GEMMShape(name: "vgg16.conv4.winograd.grad_w", m: 128, n: 128, k: 256, transA: false, transB: true, count: 36),
        GEMMShape(name: "c64.winograd.forward", m: 64, n: 64, k: 64, transA: false, transB: false, count: 36, packedA: true),
        GEMMShape(name: "c64.winograd.grad_w", m: 64, n: 64, k: 256, transA: false, transB: true, count: 36),
    ]
}

extension Benchmarks {
    /// With `PRN_GEMM_TIMING=1`, the `sgemm` calls of `steps` training steps (`calls`, as
    /// `GEMM.takeCallTimes` returned them), one line per shape, heaviest first: calls and
    /// milliseconds per step (summed over calls, so calls running side by side on two threads
    /// count twice), GFLOP/s per call and the share of the call's worker time spent packing, e.g.
    /// `gemm-call model=vgg16 threads=2 m=128 n=512 k=576 transA=0 transB=0 packedA=1 workers=1
    /// calls_per_step=1152 ms_per_step=80.1 gflops=62.4 pack_share=0.18`.
    static func reportCallInventory(_ calls: [GEMM.CallTimes], steps: Int, label: String, report: (String) -> Void) {
        var byShape: [GEMM.CallShape: (calls: Int, wall: Double, pack: Double, work: Double)] = [:]
        for call in calls {
            var entry = byShape[call.shape] ?? (0, 0, 0, 0)
            entry.calls += 1
            entry.wall += call.wall
            for w in call.workers {
                entry.pack += w.pack
                entry.work += w.pack + w.multiply
            }
            byShape[call.shape] = entry
        }
        let perStep = Double(Swift.max(steps, 1))
        for (shape, entry) in byShape.sorted(by: { $0.value.wall > $1.value.wall }) {
            let flops = 2 * Double(shape.m) * Double(shape.n) * Double(shape.k) * Double(entry.calls)
            report("gemm-call \(label) m=\(shape.m) n=\(shape.n) k=\(shape.k) transA=\(shape.transA ? 1 : 0) "
                   + "transB=\(shape.transB ? 1 : 0) packedA=\(shape.packedA ? 1 : 0) workers=\(shape.workers) "
                   + "calls_per_step=\(formatted(Double(entry.calls) / perStep)) "
                   + "ms_per_step=\(formatted(entry.wall * 1e3 / perStep)) gflops=\(formatted(flops / entry.wall / 1e9)) "
                   + "pack_share=\(formatted(entry.pack / Swift.max(entry.work, 1e-12)))")
        }
    }
}
