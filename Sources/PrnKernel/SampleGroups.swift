/// A batch cut into groups of consecutive samples, and how the groups run on the threads.
///
/// The group size depends only on the shapes, so each group's work (and the order in which
/// per-group sums are added) is the same for any thread count: results are bit-identical on 1 and
/// 2 threads. The im2col convolutions and the Winograd ones each pick their own group size.
struct SampleGroups {
    let batch: Int
    /// Samples per group (the last group may be shorter).
    let size: Int

    var count: Int { (batch + size - 1) / size }
    /// The samples of group `g`.
    func samples(ofGroup g: Int) -> Range<Int> { g * size..<Swift.min((g + 1) * size, batch) }

    /// Runs `body(samples, scratch, gemmThreads)` for each group of samples, the threads taking
    /// contiguous runs of groups in one fork, each with a `scratch` of `count` floats of its own.
    /// When groups run in parallel their GEMMs are single-threaded; a lone group gets all threads.
    /// Either way the GEMM's result does not depend on its thread count.
    func forEach(scratch count: Int, file: StaticString = #fileID, line: UInt = #line,
                 _ body: (_ samples: Range<Int>, _ scratch: UnsafeMutablePointer<Float>, _ gemmThreads: Int?) -> Void) {
        withSlots(scratch: count) { groups, slots, scratch, gemmThreads in
            Parallel.forEach(slots, threads: slots, file: file, line: line) { range in
                for slot in range {
                    for g in groups * slot / slots ..< groups * (slot + 1) / slots {
                        body(samples(ofGroup: g), scratch + slot * count, gemmThreads)
                    }
                }
            }
        }
    }

    /// `forEach`, but the threads claim the next group when they finish one instead of each
    /// taking a fixed run of them: a thread held up on a layer of many small groups (VGG-16's
    /// conv2–4 under Winograd: 32–128 groups) no longer leaves the other idle at the end. Only for
    /// work whose outputs do not depend on the groups' order (a forward pass; not the weight
    /// gradient's sums).
    func forEachClaimed(scratch count: Int, file: StaticString = #fileID, line: UInt = #line,
                        _ body: (_ samples: Range<Int>, _ scratch: UnsafeMutablePointer<Float>, _ gemmThreads: Int?) -> Void) {
        withSlots(scratch: count) { groups, slots, scratch, gemmThreads in
            Parallel.forEachClaimed(groups, pieces: groups, threads: slots, file: file, line: line) { range, slot in
                for g in range { body(samples(ofGroup: g), scratch + slot * count, gemmThreads) }
            }
        }
    }

    /// `forEach` for sums that must be added in group order: up to `Parallel.threads` groups run
    /// at a time, and after each such wave `afterWave` receives the scratch of the wave's groups in
    /// group order. A wave of one group (the last, when the threads do not divide the group
    /// count: Conv-2's 64 → 64 weight gradient, 11 groups on 2 threads) gets all threads, as a
    /// lone group does, instead of one while the others wait.
    func forEach(scratch count: Int, file: StaticString = #fileID, line: UInt = #line,
                 _ body: (_ samples: Range<Int>, _ scratch: UnsafeMutablePointer<Float>, _ gemmThreads: Int?) -> Void,
                 afterWave: ([UnsafeMutablePointer<Float>]) -> Void) {
        withSlots(scratch: count) { groups, slots, scratch, gemmThreads in
            var first = 0
            while first < groups {
                let wave = first, width = Swift.min(slots, groups - first)
                let threads = width == 1 ? nil : gemmThreads
                Parallel.forEach(width, threads: width, file: file, line: line) { range in
                    for slot in range { body(samples(ofGroup: wave + slot), scratch + slot * count, threads) }
                }
                afterWave((0..<width).map { scratch + $0 * count })
                first += width
            }
        }
    }

    /// The group count, the parallel slots (at most `Parallel.threads`), `count` floats of scratch
    /// per slot, and the GEMM thread count for a group (1 when groups run side by side).
    private func withSlots(scratch count: Int,
                           _ body: (_ groups: Int, _ slots: Int, _ scratch: UnsafeMutablePointer<Float>, _ gemmThreads: Int?) -> Void) {
        let groups = self.count
        guard groups > 0 else { return }
        let slots = Swift.max(1, Swift.min(Parallel.threads, groups))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: slots * count)
        defer { scratch.deallocate() }
        body(groups, slots, scratch, slots == 1 ? nil : 1)
    }
}
