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
    /// shape=vgg16.conv2.forward m=… n=… k=… transA=0 transB=0 threads=1 gflops=…`.
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
                       + "transB=\(shape.transB ? 1 : 0) threads=\(t) gflops=\(formatted(gflops))")
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

/// Random operands of a product, stored as the autograd stores them, and room for C.
final class GEMMOperands {
    let shape: GEMMShape
    let a: [Float], b: [Float]
    var c: [Float]

    init(_ shape: GEMMShape) {
        self.shape = shape
        var rng = RNG(seed: UInt64(shape.m * shape.n + shape.k))
        (a, b) = (rng.normal(count: shape.m * shape.k), rng.normal(count: shape.k * shape.n))
        c = [Float](repeating: 0, count: shape.m * shape.n)
    }

    /// GFLOP/s of the best time of one product (`Benchmarks.bestTime`) with the GEMM driver's `knobs`.
    func gflops(threads: Int, knobs: GEMM.Knobs = .environment, minimumTotal: Double = 0.5, minimumRuns: Int = 8) -> Double {
        let (m, n, k, transA, transB) = (shape.m, shape.n, shape.k, shape.transA, shape.transB)
        let seconds = a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    Benchmarks.bestTime(minimumTotal: minimumTotal, minimumRuns: minimumRuns) {
                        GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1,
                                   a: a.baseAddress!, lda: transA ? m : k, b: b.baseAddress!, ldb: transB ? k : n,
                                   beta: 0, c: c.baseAddress!, ldc: n, threads: threads, knobs: knobs)
                    }
                }
            }
        }
        return 2 * Double(m) * Double(n) * Double(k) / seconds / 1e9
    }
}

/// A product a training step makes: its name, sizes and transposes.
public struct GEMMShape: Sendable {
    public let name: String, m: Int, n: Int, k: Int, transA: Bool, transB: Bool

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
}
