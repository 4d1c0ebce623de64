import Foundation
import PrnKernel

/// How fast the host lets each thread run, printed beside a training rate by `prn bench train`
/// with `PRN_POOL_STATS=1`: a 2-thread rate that is slow while both cores are busy
/// (`cpu_per_wall` near 2) is either the step's own doing (joins, serial parts: the pool lines)
/// or the host's — a vCPU sharing its core or memory with another guest. The probe tells them
/// apart: each of `threads` threads runs its own single-threaded GEMM (arithmetic), then streams
/// its own buffer (memory), all at once, for a fixed time; the slowest thread's rate is printed.
/// On a quiet host the 2-thread rates match the 1-thread ones; a drop is the host's.
enum HostProbe {
    /// The slowest thread's GEMM GFLOP/s and streaming GB/s with `threads` threads at once.
    static func measure(threads: Int, seconds: Double = 0.15) -> (gflops: Double, gbs: Double) {
        let n = 192, floats = 8 << 20   // a 32 MB stream per thread: past the 32 MB L3 shared by both
        var gflops = [Double](repeating: 0, count: threads), gbs = gflops
        gflops.withUnsafeMutableBufferPointer { g in
            gbs.withUnsafeMutableBufferPointer { s in
                Parallel.forEach(threads, threads: threads) { range in
                    for t in range {
                        let a = UnsafeMutablePointer<Float>.allocate(capacity: 3 * n * n)
                        defer { a.deallocate() }
                        a.initialize(repeating: 0.5, count: 3 * n * n)
                        g[t] = rate(seconds) {
                            GEMM.sgemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: a, lda: n,
                                       b: a + n * n, ldb: n, beta: 0, c: a + 2 * n * n, ldc: n, threads: 1)
                            return 2 * Double(n * n * n) / 1e9
                        }
                        let x = UnsafeMutablePointer<Float>.allocate(capacity: floats)
                        defer { x.deallocate() }
                        x.initialize(repeating: 1, count: floats)
                        var sink = SIMD8<Float>()
                        s[t] = rate(seconds) {
                            let raw = UnsafeRawPointer(x)
                            for i in stride(from: 0, to: floats, by: 8) { sink += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) }
                            return Double(4 * floats) / 1e9
                        }
                        if sink.sum() == -1 { print("") }   // keeps the sweep
                    }
                }
            }
        }
        return (gflops.min() ?? 0, gbs.min() ?? 0)
    }

    /// Units of work per second: `body` (returning the units it did) repeated for `seconds`.
    private static func rate(_ seconds: Double, _ body: () -> Double) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        var done = 0.0, elapsed = 0.0
        repeat {
            done += body()
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < seconds
        return done / elapsed
    }
}
