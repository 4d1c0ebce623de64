import Foundation
import Synchronization

/// The persistent threads behind `Parallel.forEach`.
///
/// `DispatchQueue.concurrentPerform` costs 10–40 µs per call on these VMs to wake its threads, and
/// a training step makes thousands of parallel calls. Here the workers stay alive: after a job
/// they spin on an atomic generation counter for a short while (`spinNanoseconds`), so the next
/// job of a training step reaches them in well under a microsecond, and only then sleep on a
/// condition variable, so an idle prn uses no CPU. The caller, likewise, spins a little for the
/// workers to finish, then sleeps.
///
/// A job is `chunks` calls of `body(chunk, participant)`; the caller and the workers claim chunk
/// indices from one atomic counter, and each passes its own participant number (the caller 0,
/// worker i the number i + 1), under which a job can keep per-thread scratch. Which thread runs a
/// chunk never changes what the chunk computes, so results do not depend on scheduling. One job runs at a time: a call made while the pool is busy (a
/// nested `forEach`, or a second caller thread) runs its chunks on its own thread, in order.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long an idle worker polls for the next job before it sleeps.
    static let spinNanoseconds: UInt64 = 100_000
    /// Polls (a few µs) before a waiting thread yields its core between polls: on a machine
    /// with more runnable threads than cores, the thread it waits for may need that core.
    static let pollsBeforeYield = 2000

    private let busy = Atomic<Bool>(false)
    /// The current job's number times 256 plus how many workers take part in it (read as one
    /// word, so a worker never pairs one job's number with another's participant count).
    private let job = Atomic<Int>(0)
    private let nextChunk = Atomic<Int>(0)
    /// Participating workers that have not yet finished the current job. The caller waits for
    /// zero, so no worker can still hold a job's closure after `run` returns.
    private let pending = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let condition = NSCondition()
    /// Where a caller sleeps until the last worker of its job is done (`callerSleeps` set).
    private let finished = NSCondition()
    private let callerSleeps = Atomic<Bool>(false)
    /// The current job's closure and chunk count: written by the caller before `job` is bumped
    /// (release), read by workers after they see the new value (acquire), and left alone until
    /// `pending` is back to zero.
    private nonisolated(unsafe) var body: ((Int, Int) -> Void)?
    private nonisolated(unsafe) var chunks = 0
    /// When each worker started and finished its part of the current job (`PoolStats` only):
    /// written by worker i before it leaves the job, read by the caller after the join.
    private let workerStarts = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
    private let workerEnds = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
    /// Workers started so far (only grows; guarded by `condition`).
    private var started = 0

    /// Runs `body(0) … body(chunks - 1)` on up to `threads` threads (the caller included) and
    /// returns when all have finished.
    func run(chunks: Int, threads: Int, file: StaticString = #fileID, line: UInt = #line, _ body: (Int) -> Void) {
        run(chunks: chunks, threads: threads, file: file, line: line) { chunk, _ in body(chunk) }
    }

    /// Runs `body(chunk, participant)` for chunks `0..<chunks` on up to `threads` threads (the
    /// caller included), `participant` being below `min(threads, chunks)` and the same for every
    /// chunk one thread runs in this call (0 for all of them when the call runs on its own
    /// thread, the pool being busy); returns when all have finished. `file` and `line` name the
    /// call site for `PoolStats`.
    func run(chunks: Int, threads: Int, file: StaticString = #fileID, line: UInt = #line,
             _ body: (_ chunk: Int, _ participant: Int) -> Void) {
        let participants = min(threads, chunks, 256) - 1
        guard participants > 0, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for chunk in 0..<chunks { body(chunk, 0) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        ensureWorkers(participants)
        let posted = PoolStats.enabled ? PoolStats.now() : 0
        var wokeWorker = false
        withoutActuallyEscaping(body) { body in
            self.body = body
            self.chunks = chunks
            nextChunk.store(0, ordering: .relaxed)
            pending.store(participants, ordering: .relaxed)
            let number = job.load(ordering: .relaxed) >> 8 + 1
            job.store(number << 8 | participants, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                wokeWorker = true
                condition.lock()
                condition.broadcast()
                condition.unlock()
            }
            claimChunks(body, chunks, participant: 0)
            let callerDone = PoolStats.enabled ? PoolStats.now() : 0
            let callerSlept = waitForWorkers()
            self.body = nil
            if PoolStats.enabled {
                PoolStats.record(file: file, line: line, posted: posted, callerDone: callerDone, joined: PoolStats.now(),
                                 workers: participants, starts: workerStarts, ends: workerEnds,
                                 wokeWorker: wokeWorker, callerSlept: callerSlept)
            }
        }
    }

    /// Returns when every participating worker has finished: spins briefly (the workers are
    /// usually a chunk behind at most), then sleeps until the last one signals, so a caller whose
    /// worker was descheduled on a busy machine does not burn the core that worker needs.
    /// Returns whether it slept.
    private func waitForWorkers() -> Bool {
        let deadline = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds / 4
        var polls = 0
        while pending.load(ordering: .acquiring) > 0 {
            polls += 1
            if polls > Self.pollsBeforeYield { sched_yield() }
            guard polls & 255 != 0 || DispatchTime.now().uptimeNanoseconds < deadline else {
                finished.lock()
                callerSleeps.store(true, ordering: .sequentiallyConsistent)
                while pending.load(ordering: .sequentiallyConsistent) > 0 { finished.wait() }
                callerSleeps.store(false, ordering: .relaxed)
                finished.unlock()
                return true
            }
        }
        return false
    }

    /// Tells the caller this worker is done with the job; the last one wakes a sleeping caller.
    private func leaveJob() {
        let left = pending.wrappingAdd(-1, ordering: .sequentiallyConsistent).newValue
        if left == 0 && callerSleeps.load(ordering: .sequentiallyConsistent) {
            finished.lock()
            finished.broadcast()
            finished.unlock()
        }
    }

    /// Claims and runs chunks of the current job until none are left.
    private func claimChunks(_ body: (Int, Int) -> Void, _ chunks: Int, participant: Int) {
        while true {
            let chunk = nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
            guard chunk < chunks else { return }
            body(chunk, participant)
        }
    }

    private func ensureWorkers(_ count: Int) {
        condition.lock()
        defer { condition.unlock() }
        // A new worker must wait for the job about to be posted, not for the one after: it
        // starts from the current value, read here, before the caller bumps it.
        let current = job.load(ordering: .acquiring)
        while started < count {
            let index = started
            let thread = Thread { [unowned self] in self.workerLoop(index, seen: current) }
            thread.stackSize = 8 << 20
            thread.name = "prn-worker-\(index)"
            thread.start()
            started += 1
        }
    }

    /// Worker `index` takes part in the jobs that ask for more than `index` workers.
    private func workerLoop(_ index: Int, seen start: Int) {
        var seen = start
        while true {
            seen = waitForJob(after: seen)
            guard seen & 255 > index else { continue }
            if PoolStats.enabled { workerStarts[index] = PoolStats.now() }
            participate(index + 1)
            if PoolStats.enabled { workerEnds[index] = PoolStats.now() }
            leaveJob()
        }
    }

    /// A worker's part of the current job. Out of line, so the worker's reference to the job's
    /// closure is released when this returns, before `pending` tells the caller it may go on
    /// (`withoutActuallyEscaping` checks that nothing kept the closure).
    @inline(never)
    private func participate(_ participant: Int) {
        claimChunks(body!, chunks, participant: participant)
    }

    /// Spins, then sleeps, until `job` differs from `seen`; returns the new value.
    private func waitForJob(after seen: Int) -> Int {
        let deadline = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
        var polls = 0
        while true {
            let now = job.load(ordering: .acquiring)
            if now != seen { return now }
            polls += 1
            if polls > Self.pollsBeforeYield { sched_yield() }
            if polls & 255 == 0 && DispatchTime.now().uptimeNanoseconds > deadline { break }
        }
        condition.lock()
        defer { condition.unlock() }
        sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
        var now = job.load(ordering: .sequentiallyConsistent)
        while now == seen {
            condition.wait()
            now = job.load(ordering: .acquiring)
        }
        sleepers.wrappingAdd(-1, ordering: .relaxed)
        return now
    }
}
