import XCTest
import Dispatch
@_spi(Bench) @testable import PrnKernel

/// `Parallel.forEach` on the persistent worker pool: every index once, the same chunks whatever
/// thread runs them, nested and concurrent calls, and jobs that find the workers asleep.
final class WorkerPoolTests: XCTestCase {
    /// Each index is visited exactly once, in the chunks `count · w / workers` promises.
    func testChunksCoverTheRangeOnce() {
        for (count, grain, threads) in [(1, 1, 2), (2, 1, 2), (7, 1, 3), (1000, 64, 2), (1000, 1, 4), (5, 10, 2)] {
            var hits = [Int](repeating: 0, count: count)
            let ranges = RangeLog()
            hits.withUnsafeMutableBufferPointer { hits in
                let hits = hits
                Parallel.forEach(count, grain: grain, threads: threads) { range in
                    ranges.add(range)
                    for i in range { hits[i] += 1 }
                }
            }
            XCTAssertEqual(hits, [Int](repeating: 1, count: count), "count \(count) threads \(threads)")
            let workers = min(threads, max(1, count / grain))
            let expected = (0..<workers).map { count * $0 / workers ..< count * ($0 + 1) / workers }.filter { !$0.isEmpty }
            XCTAssertEqual(ranges.sorted.map(\.lowerBound), expected.map(\.lowerBound), "count \(count) threads \(threads)")
        }
    }

    /// `forEachClaimed` visits each index exactly once, in the pieces `count · p / pieces`
    /// promises, and gives each thread a slot below `min(threads, count)` that no other thread
    /// uses in the same call.
    func testClaimedPiecesCoverTheRangeOnceWithOwnSlots() {
        for (count, pieces, threads) in [(1, 4, 2), (2, 8, 2), (7, 3, 3), (1000, 16, 2), (1000, 1000, 2), (36, 36, 4), (5, 0, 2)] {
            for round in 0..<20 {
                var hits = [Int](repeating: 0, count: count)
                let ranges = RangeLog(), owners = SlotOwners()
                hits.withUnsafeMutableBufferPointer { hits in
                    let hits = hits
                    Parallel.forEachClaimed(count, pieces: pieces, threads: threads) { range, slot in
                        ranges.add(range)
                        owners.record(slot: slot, thread: pthread_self())
                        for i in range { hits[i] += 1 }
                    }
                }
                let label = "count \(count) pieces \(pieces) threads \(threads) round \(round)"
                XCTAssertEqual(hits, [Int](repeating: 1, count: count), label)
                let workers = min(threads, count), cut = min(count, max(1, pieces))
                let expected = workers <= 1 || cut <= 1 ? [0..<count] : (0..<cut).map { count * $0 / cut ..< count * ($0 + 1) / cut }
                XCTAssertEqual(ranges.sorted, expected.filter { !$0.isEmpty }, label)
                XCTAssertTrue(owners.slots.allSatisfy { $0 >= 0 && $0 < workers }, label)
                XCTAssertFalse(owners.shared, "a slot used by two threads, \(label)")
            }
        }
    }

    /// A `forEach` inside a chunk runs on the calling thread with the same chunks.
    func testNestedCallsComplete() {
        var sums = [Int](repeating: 0, count: 4)
        sums.withUnsafeMutableBufferPointer { sums in
            let sums = sums
            Parallel.forEach(4, threads: 2) { outer in
                for o in outer {
                    let inner = RangeLog()
                    Parallel.forEach(100, threads: 2) { range in inner.add(range) }
                    sums[o] = inner.sorted.reduce(0) { $0 + $1.count }
                }
            }
        }
        XCTAssertEqual(sums, [100, 100, 100, 100])
    }

    /// Two threads calling at once: one gets the pool, the other runs its chunks itself.
    func testConcurrentCallersBothFinish() {
        let results = RangeLog()
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for round in 0..<200 {
                var total = 0
                let lock = NSLock()
                Parallel.forEach(64, threads: 2) { range in
                    lock.lock(); total += range.reduce(0, +); lock.unlock()
                }
                if total == 64 * 63 / 2 { results.add(caller * 1000 + round ..< caller * 1000 + round + 1) }
            }
        }
        XCTAssertEqual(results.sorted.count, 800)
    }

    /// Many short jobs, some after a pause long enough for the workers to fall asleep: none is
    /// lost or run twice.
    func testJobsAfterWorkersSleep() {
        var counts = [Int](repeating: 0, count: 2)
        for job in 0..<300 {
            if job % 50 == 0 { usleep(useconds_t(2 * WorkerPool.spinNanoseconds / 1000)) }
            counts.withUnsafeMutableBufferPointer { counts in
                let counts = counts
                Parallel.forEach(2, threads: 2) { range in for i in range { counts[i] += 1 } }
            }
        }
        XCTAssertEqual(counts, [300, 300])
    }
}

/// Ranges recorded from several threads.
private final class RangeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var ranges: [Range<Int>] = []

    func add(_ range: Range<Int>) {
        lock.lock()
        ranges.append(range)
        lock.unlock()
    }

    var sorted: [Range<Int>] {
        lock.lock()
        defer { lock.unlock() }
        return ranges.sorted { $0.lowerBound < $1.lowerBound }
    }
}

/// `PoolStats.record`'s totals for jobs given by hand: spans, each side's work and wait, the
/// worker's start delay and idle tail, the longest stalls, and the per-site keys.
final class PoolStatsTests: XCTestCase {
    func testRecordAddsEachJobsParts() {
        PoolStats.reset()
        defer { PoolStats.reset() }
        let starts: [UInt64] = [120], ends: [UInt64] = [170]
        // Posted at 100, the caller's chunks done at 160, joined at 180; the worker ran 120–170.
        PoolStats.record(file: "Sources/PrnKernel/Some.swift", line: 7, posted: 100, callerDone: 160, joined: 180,
                         workers: 1, starts: starts, ends: ends, wokeWorker: true, callerSlept: false)
        // A second job from the same site: posted at 1000, caller done at 1010, joined at 1050,
        // the worker ran 1005–1050.
        PoolStats.record(file: "Sources/PrnKernel/Some.swift", line: 7, posted: 1000, callerDone: 1010, joined: 1050,
                         workers: 1, starts: [1005], ends: [1050], wokeWorker: false, callerSlept: true)
        PoolStats.record(file: "Other.swift", line: 3, posted: 0, callerDone: 5, joined: 5,
                         workers: 1, starts: [1], ends: [5], wokeWorker: false, callerSlept: false)
        let site = PoolStats.recorded["Some.swift:7"]
        XCTAssertEqual(Set(PoolStats.recorded.keys), ["Some.swift:7", "Other.swift:3"])
        XCTAssertEqual(site?.jobs, 2)
        XCTAssertEqual(site?.span, 80 + 50)
        XCTAssertEqual(site?.callerWork, 60 + 10)
        XCTAssertEqual(site?.callerWait, 20 + 40)
        XCTAssertEqual(site?.workerStart, 20 + 5)
        XCTAssertEqual(site?.workerWork, 50 + 45)
        XCTAssertEqual(site?.workerTail, 10 + 0)
        XCTAssertEqual(site?.longestStart, 20)
        XCTAssertEqual(site?.longestWait, 40)
        XCTAssertEqual(site?.capacity, 2 * (80 + 50))
        XCTAssertEqual(site?.busy, (60 + 50) + (10 + 45))
        XCTAssertEqual(site?.wokeWorker, 1)
        XCTAssertEqual(site?.callerSlept, 1)
    }
}

/// Which thread used each slot of a `forEachClaimed` call.
private final class SlotOwners: @unchecked Sendable {
    private let lock = NSLock()
    private var owners: [Int: pthread_t] = [:]
    private var reused = false

    func record(slot: Int, thread: pthread_t) {
        lock.lock()
        if let owner = owners[slot], pthread_equal(owner, thread) == 0 { reused = true }
        owners[slot] = thread
        lock.unlock()
    }

    var slots: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return Array(owners.keys)
    }

    var shared: Bool {
        lock.lock()
        defer { lock.unlock() }
        return reused
    }
}
