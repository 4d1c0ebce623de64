import XCTest
import Dispatch
@testable import PrnKernel

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
