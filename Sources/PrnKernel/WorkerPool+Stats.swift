import Foundation

/// Where the worker pool's jobs spend their time, per call site: for finding out why two threads
/// run but a step does not get faster (waiting in a join, a worker slow to start, or the chunks
/// themselves slower).
///
/// Off unless `PRN_POOL_STATS=1`; when off, a job pays one test of a constant. When on, the
/// thread that posts a job (only one job runs at a time) records, after the join, when it posted
/// the job, when its own chunks were done, when the join returned, and when each worker started
/// and finished its part. Calls that run inline (one thread, or nested inside another job's
/// chunk) are part of whatever encloses them and are not recorded on their own.
@_spi(Bench) public enum PoolStats {
    /// `PRN_POOL_STATS=1`, read once.
    public static let enabled = ProcessInfo.processInfo.environment["PRN_POOL_STATS"] == "1"

    /// Totals, in nanoseconds, of the recorded jobs posted from one call site.
    public struct Site: Sendable {
        public var jobs = 0
        /// Post to join: the wall time the job held the pool.
        public var span: UInt64 = 0
        /// The posting thread running chunks, then waiting for the workers.
        public var callerWork: UInt64 = 0, callerWait: UInt64 = 0
        /// Post to a worker's first chunk, its chunks, and its finish to the join (summed over
        /// the participating workers).
        public var workerStart: UInt64 = 0, workerWork: UInt64 = 0, workerTail: UInt64 = 0
        /// The longest single worker start delay and caller wait: one long stall (a thread
        /// descheduled) looks different from many short ones.
        public var longestStart: UInt64 = 0, longestWait: UInt64 = 0
        /// Jobs that had to wake a sleeping worker, and joins in which the caller slept.
        public var wokeWorker = 0, callerSlept = 0
        /// Thread-time the job could have used (`span` × threads) and the part spent in chunks.
        public var capacity: UInt64 = 0, busy: UInt64 = 0
    }

    /// Recorded sites, keyed by `file:line` of the `Parallel` (or `WorkerPool`) call.
    nonisolated(unsafe) static var sites: [String: Site] = [:]

    /// Forgets everything recorded so far. Call between jobs (from the thread that posts them).
    public static func reset() { sites = [:] }

    /// What has been recorded so far (a copy; cheap until the next job changes it).
    public static var recorded: [String: Site] { sites }

    /// The monotonic clock in nanoseconds.
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Adds one job: posted at `posted`, the caller's chunks done at `callerDone`, joined at
    /// `joined`; `starts[i]`/`ends[i]` bracket worker i's part.
    static func record(file: StaticString, line: UInt, posted: UInt64, callerDone: UInt64, joined: UInt64,
                       workers: Int, starts: UnsafePointer<UInt64>, ends: UnsafePointer<UInt64>,
                       wokeWorker: Bool, callerSlept: Bool) {
        let key = "\(("\(file)" as NSString).lastPathComponent):\(line)"
        var site = sites[key] ?? Site()
        site.jobs += 1
        site.span += joined &- posted
        site.callerWork += callerDone &- posted
        site.callerWait += joined &- callerDone
        site.longestWait = Swift.max(site.longestWait, joined &- callerDone)
        site.busy += callerDone &- posted
        for i in 0..<workers {
            site.workerStart += starts[i] &- posted
            site.longestStart = Swift.max(site.longestStart, starts[i] &- posted)
            site.workerWork += ends[i] &- starts[i]
            site.workerTail += joined &- ends[i]
            site.busy += ends[i] &- starts[i]
        }
        site.capacity += (joined &- posted) * UInt64(workers + 1)
        if wokeWorker { site.wokeWorker += 1 }
        if callerSlept { site.callerSlept += 1 }
        sites[key] = site
    }
}
