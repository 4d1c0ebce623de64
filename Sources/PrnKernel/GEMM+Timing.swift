import Dispatch
import Synchronization

// Where a product's time goes on several threads: how long each worker packs and multiplies,
// how long it takes to start after a fork and how long it then waits at the join. Recorded only
// with `PRN_GEMM_TIMING=1` (`Knobs.timing`), for `prn bench gemm`; otherwise `Job.stopwatch` is
// nil and the driver only tests it once per fork.

extension GEMM {
    /// One `sgemm` call's time, in seconds.
    @_spi(Bench) public struct CallTimes: Sendable {
        /// The product: `C[m×n] = op(A)[m×k] · op(B)[k×n]`, A packed beforehand or not.
        public var shape: CallShape
        /// From the call's start to its return.
        public var wall = 0.0
        /// One entry per worker (its part of C), each summed over the call's forks.
        public var workers: [WorkerTimes]
    }

    /// The sizes of one timed call, as a key for adding up the calls a training step makes.
    @_spi(Bench) public struct CallShape: Sendable, Hashable {
        public var m: Int, n: Int, k: Int, transA: Bool, transB: Bool
        /// Whether A came packed beforehand (`sgemm(packedA:…)`, Winograd's transformed weights).
        public var packedA: Bool
        /// The workers the call ran on.
        public var workers: Int
    }

    /// One worker's share of a call, in seconds, summed over the call's forks.
    @_spi(Bench) public struct WorkerTimes: Sendable {
        /// From the fork to the start of this worker's part (waking it, or its turn to claim).
        public var start = 0.0
        /// Packing slivers.
        public var pack = 0.0
        /// Updating tiles of C.
        public var multiply = 0.0
        /// From the end of this worker's part to the join's return (waiting for the others).
        public var wait = 0.0
    }

    /// The calls timed so far (in order), and forgets them.
    @_spi(Bench) public static func takeCallTimes() -> [CallTimes] {
        recordedCalls.withLock { calls in
            defer { calls = [] }
            return calls
        }
    }

    private static let recordedCalls = Mutex<[CallTimes]>([])

    /// The clock of one timed call. Each worker's entry is written only by the thread running
    /// that worker's part, and read after the join.
    final class Stopwatch: @unchecked Sendable {
        private let started = DispatchTime.now().uptimeNanoseconds
        private let workers: UnsafeMutablePointer<WorkerTimes>, count: Int
        private let shape: CallShape

        init(_ shape: CallShape) {
            (self.shape, count) = (shape, shape.workers)
            workers = .allocate(capacity: count)
            workers.initialize(repeating: WorkerTimes(), count: count)
        }

        deinit { workers.deallocate() }

        static var now: Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

        /// Runs `body`, adding its time to worker `w`'s `phase`.
        @inline(__always)
        func time(_ w: Int, _ phase: WritableKeyPath<WorkerTimes, Double>, _ body: () -> Void) {
            let start = Self.now
            body()
            workers[w][keyPath: phase] += Self.now - start
        }

        /// `body(w)` for every worker `w` on `workers` threads, with each one's start and wait.
        func fork(_ count: Int, _ body: (Int) -> Void) {
            let ends = UnsafeMutablePointer<Double>.allocate(capacity: count)
            defer { ends.deallocate() }
            let forked = Self.now
            Parallel.forEach(count, threads: count) { range in
                for w in range {
                    workers[w].start += Self.now - forked
                    body(w)
                    ends[w] = Self.now
                }
            }
            let joined = Self.now
            for w in 0..<count { workers[w].wait += joined - ends[w] }
        }

        /// Records the call as finished now.
        func finish() {
            let call = CallTimes(shape: shape, wall: Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9,
                                 workers: Array(UnsafeBufferPointer(start: workers, count: count)))
            GEMM.recordedCalls.withLock { $0.append(call) }
        }
    }
}

extension GEMM.Job {
    /// `body(w)` for every worker `w` on `workers` threads, timed when the call is.
    func fork(_ workers: Int, _ body: (Int) -> Void) {
        if let stopwatch {
            stopwatch.fork(workers, body)
        } else {
            Parallel.forEach(workers, threads: workers) { range in
                for w in range { body(w) }
            }
        }
    }

    /// `body()`, its time added to worker `w`'s `phase` when the call is timed.
    @inline(__always)
    func time(_ w: Int, _ phase: WritableKeyPath<GEMM.WorkerTimes, Double>, _ body: () -> Void) {
        if let stopwatch { stopwatch.time(w, phase, body) } else { body() }
    }
}
