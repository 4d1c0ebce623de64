import Dispatch
import PrnKernel

/// Throughput benchmarks, printed by `prn bench`.
public enum Benchmarks {
    /// GFLOP/s of `GEMM.sgemm` on square row-major matrices (`C = A·B`, beta 0), for each size and
    /// thread count; one line per result through `report`, e.g. `gemm n=1024 threads=1 gflops=88.12`.
    ///
    /// Each configuration runs once to warm up, then repeats until at least 0.5 s has passed; the
    /// best rate is reported (the machine is shared, so the best is the least disturbed run).
    /// A product is `2·n³` floating-point operations.
    public static func gemm(sizes: [Int] = [256, 512, 1024, 2048], threads: [Int] = [1, 2],
                            report: (String) -> Void) {
        for n in sizes where n > 0 {
            var rng = RNG(seed: UInt64(n))
            let a = rng.normal(count: n * n), b = rng.normal(count: n * n)
            var c = [Float](repeating: 0, count: n * n)
            for t in threads where t > 0 {
                let seconds = a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            bestTime(minimumTotal: 0.5) {
                                GEMM.sgemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1,
                                           a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n,
                                           beta: 0, c: c.baseAddress!, ldc: n, threads: t)
                            }
                        }
                    }
                }
                let gflops = 2 * Double(n) * Double(n) * Double(n) / seconds / 1e9
                report("gemm n=\(n) threads=\(t) gflops=\(formatted(gflops))")
            }
        }
    }

    /// Runs `body` once to warm up, then until `minimumTotal` seconds have passed; the fastest run.
    static func bestTime(minimumTotal: Double, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity, total = 0.0
        repeat {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            best = min(best, seconds)
            total += seconds
        } while total < minimumTotal
        return best
    }

    /// Two decimals, without Foundation's locale-dependent formatting.
    static func formatted(_ x: Double) -> String {
        let hundredths = Int((x * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
