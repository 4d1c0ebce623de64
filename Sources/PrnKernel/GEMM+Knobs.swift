import Foundation

extension GEMM {
    /// Settings of the driver that change its speed, never its results: which cache hints it
    /// issues, how workers split C and when they pack private copies; and whether it records
    /// where the time goes. Each is read once from the environment, so one
    /// binary can be compared with itself: in separate runs (`PRN_GEMM_CPREFETCH=0 prn bench gemm`)
    /// or, to resolve effects of a few per cent on a host whose speed drifts more than that
    /// between runs, in one process: `BENCH_AB=PRN_GEMM_CPREFETCH=0 prn bench gemm` alternates
    /// `environment` with the knobs the environment gives once that variable is added
    /// (`Benchmarks.gemmAB`).
    @_spi(Bench) public struct Knobs: Sendable, Equatable {
        /// `PRN_GEMM_PREFETCH=0`: no cache hints at all (`Job.multiply`).
        public var prefetching: Bool
        /// `PRN_GEMM_CPREFETCH=0`: no hints for the next tile of C (`Job.prefetchTile`).
        public var prefetchingC: Bool
        /// `PRN_GEMM_PRIVATE_COPY_LIMIT=floats`: `privateCopyLimit`.
        public var privateCopyLimit: Int

        /// `PRN_GEMM_SPLIT=rows` or `columns`: how workers split C, instead of the driver's rule
        /// (`Job.splitsRows`); nil for the rule.
        public var splitRows: Bool?
        /// `PRN_GEMM_TIMING=1`: record where each call's time goes (`GEMM.takeCallTimes`).
        public var timing: Bool
        /// `PRN_GEMM_UNPACKED_A=0`: pack A's full slivers even where the kernels could read its
        /// rows as stored (`Job.readsRowsOfA`).
        public var unpackedA: Bool

        /// The environment variables the knobs are read from.
        public static let names: Set<String> = ["PRN_GEMM_PREFETCH", "PRN_GEMM_CPREFETCH", "PRN_GEMM_PRIVATE_COPY_LIMIT",
                                                "PRN_GEMM_TIMING", "PRN_GEMM_SPLIT", "PRN_GEMM_UNPACKED_A"]

        /// The knobs `environment` sets; the defaults for the variables it lacks (or cannot parse).
        public init(environment: [String: String]) {
            prefetching = environment["PRN_GEMM_PREFETCH"] != "0"
            prefetchingC = environment["PRN_GEMM_CPREFETCH"] != "0"
            privateCopyLimit = environment["PRN_GEMM_PRIVATE_COPY_LIMIT"].flatMap { Int($0) } ?? GEMM.privateCopyLimit
            timing = environment["PRN_GEMM_TIMING"] == "1"
            unpackedA = environment["PRN_GEMM_UNPACKED_A"] != "0"
            splitRows = ["rows": true, "columns": false][environment["PRN_GEMM_SPLIT"] ?? ""]
        }

        /// The process's knobs, which `sgemm` uses.
        public static let environment = Knobs(environment: ProcessInfo.processInfo.environment)
    }
}
