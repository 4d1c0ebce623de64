/// Throughput benchmarks, printed by `prn bench`.
public enum Benchmarks {
    /// GFLOP/s of `sgemm` on square matrices for each size and thread count; one line per result
    /// through `report`. Placeholder until the SIMD kernel lands.
    public static func gemm(sizes: [Int] = [256, 512, 1024, 2048], threads: [Int] = [1, 2],
                            report: (String) -> Void) {
        report("gemm benchmark not implemented yet")
    }
}
