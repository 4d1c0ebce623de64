// The two loops every sparse product in prn reduces to, on raw pointers:
//
//  - `rowsTimesDense`: `out[r, :] = Σ_e value[e] · dense[index[e], :]` over the entries of row r
//    (scipy's `csr_matvecs`), with a SIMD strip over the dense columns. Run over the CSR arrays it
//    is `S · D`; over the CSC arrays (values gathered in column order) it is `Sᵀ · D`.
//  - `sampledProduct`: `out[e] = Σ_t a[row(e), t] · b[column(e), t]` at the kept entries only
//    (SDDMM), scalar FMA chains, several entries in flight.
//
// Same numbers as the dense GEMM. `GEMM.sgemm` (beta 0, alpha 1) computes each element of C as
// one FMA chain per k-block, starting from +0 and running over k in order, and adds the blocks'
// sums to C in order (`C = acc₀`, then `C = accᵦ + C`). The loops below compute that same chain
// over the same k-blocks with the terms whose weight is an exact zero left out. Skipping
// `fma(x, 0, acc)` changes nothing unless `acc` is −0 (the sum can come out −0 where the dense
// chain gives +0) or `x` is infinite or NaN (the dense chain gives NaN, the sparse one ignores
// the pruned weight's input). Everything else is bit-identical to the dense path, and to itself
// on any thread count: threads split the output rows, never a chain.

extension SparseKernels {
    /// `out[r, 0..<n] = Σ_e values[e] · dense[index[e] · ldd, 0..<n]` for the rows `rows`,
    /// entries `start[r] ..< start[r + 1]` sorted by `index`, each chain split where `index`
    /// crosses into the next of `blocks` (the k-blocks of the equivalent dense product, in the
    /// units of `index`).
    static func rowsTimesDense(start: UnsafePointer<Int32>, index: UnsafePointer<Int32>, values: UnsafePointer<Float>,
                               rows: Range<Int>, blocks: [Range<Int>], dense: UnsafePointer<Float>, ldd: Int, n: Int,
                               out: UnsafeMutablePointer<Float>, ldo: Int) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * (blocks.count + 1)) { buffer in
            let cuts = buffer.baseAddress!, nextCuts = cuts + blocks.count + 1
            // Strips of `stripWidth` columns outermost: the dense rows' strips (depth × 512 bytes)
            // stay in L2 while every output row of the range reads them.
            for j0 in stride(from: 0, to: n, by: stripWidth) {
                let end = Swift.min(j0 + stripWidth, n)
                var r = rows.lowerBound
                while r < rows.upperBound {
                    cut(entries: Int(start[r])..<Int(start[r + 1]), index: index, blocks: blocks, into: cuts)
                    let target = out + r * ldo
                    var j = j0
                    defer { r += 1 }  // the next row (a pair below steps over its second row first)
                    if end - j == 64 && stripWidth == 128 && r + 1 < rows.upperBound {
                        // A strip of 64 columns (a batch of 64 in LeNet-300-100's layers): two
                        // rows side by side, eight accumulators (see `stripPair`).
                        cut(entries: Int(start[r + 1])..<Int(start[r + 2]), index: index, blocks: blocks, into: nextCuts)
                        stripPair(MicroPair<SIMD16Pair>.self, cuts: cuts, nextCuts, blocks: blocks.count, index: index,
                                  values: values, dense: dense + j, ldd: ldd, out: target + j, target + ldo + j)
                        r += 1
                        continue
                    }
                    if end - j == 128 {
                        strip(MicroPair<MicroPair<SIMD16Pair>>.self, cuts: cuts, blocks: blocks.count, index: index,
                              values: values, dense: dense + j, ldd: ldd, out: target + j)
                        continue
                    }
                    while j + 64 <= end {
                        strip(MicroPair<SIMD16Pair>.self, cuts: cuts, blocks: blocks.count, index: index,
                              values: values, dense: dense + j, ldd: ldd, out: target + j)
                        j += 64
                    }
                    while j + 16 <= end {
                        strip(SIMD16<Float>.self, cuts: cuts, blocks: blocks.count, index: index,
                              values: values, dense: dense + j, ldd: ldd, out: target + j)
                        j += 16
                    }
                    while j < end {
                        for b in 0..<blocks.count {
                            var acc: Float = 0
                            for e in cuts[b]..<cuts[b + 1] { acc = acc.addingProduct(values[e], dense[Int(index[e]) &* ldd &+ j]) }
                            target[j] = b == 0 ? acc : acc + target[j]
                        }
                        j += 1
                    }
                }
            }
        }
    }

    /// Columns per strip of `rowsTimesDense`: 128 (eight 16-lane accumulators) where the GEMM
    /// found 32 vector registers (`GEMM.wideTiles`), else 64. Each accumulator is a chain that
    /// waits for its previous FMA (4 cycles) and two FMAs issue per cycle, so a row's strip needs
    /// eight independent accumulators to keep both pipes busy: four 16-lane ones left half idle
    /// (the direct convolutions of VGG-16's sparse layers ran at about one FMA per cycle). With
    /// 16 ymm registers (x86-64-v3), sixteen accumulators of 8 lanes would spill. The width only
    /// decides which columns share a loop, never a chain's order, so it changes no result.
    static var stripWidth: Int { GEMM.wideTiles ? 128 : 64 }

    /// `strip` for two output rows at once (`cuts` and `nextCuts`, outputs `out` and `nextOut`):
    /// their chains step side by side while both rows have entries left, then the longer row's
    /// alone. A row's strip of 64 columns is four 16-lane chains, which wait on the FMA latency
    /// (4 cycles) at half the FMA pipes' rate; two rows give eight and twice the loads in flight
    /// (fc1's forward at density 0.1, batch 64: 10 G multiply-adds per second one row at a time,
    /// perf, Intel Xeon, 2026-12-01). Each chain's order is its row's own, so nothing changes.
    @inline(__always)
    private static func stripPair<Row: MicroRow>(_: Row.Type, cuts: UnsafePointer<Int>, _ nextCuts: UnsafePointer<Int>, blocks: Int,
                                                 index: UnsafePointer<Int32>, values: UnsafePointer<Float>,
                                                 dense: UnsafePointer<Float>, ldd: Int,
                                                 out: UnsafeMutablePointer<Float>, _ nextOut: UnsafeMutablePointer<Float>) {
        @inline(__always) func run(_ e: Int) -> Row { Row.load(UnsafeRawPointer(dense + Int(index[e]) &* ldd)) }
        for b in 0..<blocks {
            var acc = Row(), next = Row()
            var e = cuts[b], f = nextCuts[b]
            let (end, nextEnd) = (cuts[b + 1], nextCuts[b + 1])
            while e < end && f < nextEnd {
                acc.accumulate(values[e], run(e))
                next.accumulate(values[f], run(f))
                e += 1
                f += 1
            }
            while e < end {
                acc.accumulate(values[e], run(e))
                e += 1
            }
            while f < nextEnd {
                next.accumulate(values[f], run(f))
                f += 1
            }
            if b == 0 {
                acc.store(to: UnsafeMutableRawPointer(out))
                next.store(to: UnsafeMutableRawPointer(nextOut))
            } else {
                acc.store(to: UnsafeMutableRawPointer(out), addingScaled: 1)
                next.store(to: UnsafeMutableRawPointer(nextOut), addingScaled: 1)
            }
        }
    }

    /// One strip of `Row.width` columns of one output row: a chain per k-block, stored, then
    /// each later block's sum added to it (as the dense kernel's `C = acc + 1 · C`).
    @inline(__always)
    private static func strip<Row: MicroRow>(_: Row.Type, cuts: UnsafePointer<Int>, blocks: Int, index: UnsafePointer<Int32>,
                                             values: UnsafePointer<Float>, dense: UnsafePointer<Float>, ldd: Int,
                                             out: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            var acc = Row()
            for e in cuts[b]..<cuts[b + 1] {
                acc.accumulate(values[e], Row.load(UnsafeRawPointer(dense + Int(index[e]) &* ldd)))
            }
            if b == 0 { acc.store(to: UnsafeMutableRawPointer(out)) } else { acc.store(to: UnsafeMutableRawPointer(out), addingScaled: 1) }
        }
    }

    /// `out[e] = Σ_{t < depth} a[row(e)·aRow + t·aStep] · b[index[e]·bRow + t·bStep]` for
    /// the entries of rows `rows`: the product `A · Bᵀ` sampled at the kept entries, each a chain
    /// over t in order, split at the k-blocks of `depth`.
    static func sampledProduct(start: UnsafePointer<Int32>, index: UnsafePointer<Int32>, rows: Range<Int>, depth: Int,
                               a: UnsafePointer<Float>, aRow: Int, aStep: Int,
                               b: UnsafePointer<Float>, bRow: Int, bStep: Int,
                               out: UnsafeMutablePointer<Float>) {
        let blocks = kBlocks(depth)
        for r in rows {
            let aRowBase = a + r * aRow
            var e = Int(start[r])
            let end = Int(start[r + 1])
            // Eight entries at a time: eight independent chains keep both FMA pipes busy (each
            // chain waits 4 cycles for its previous FMA).
            while e + 8 <= end {
                let b0 = b + Int(index[e]) &* bRow, b1 = b + Int(index[e + 1]) &* bRow
                let b2 = b + Int(index[e + 2]) &* bRow, b3 = b + Int(index[e + 3]) &* bRow
                let b4 = b + Int(index[e + 4]) &* bRow, b5 = b + Int(index[e + 5]) &* bRow
                let b6 = b + Int(index[e + 6]) &* bRow, b7 = b + Int(index[e + 7]) &* bRow
                for (k, block) in blocks.enumerated() {
                    var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
                    var s4: Float = 0, s5: Float = 0, s6: Float = 0, s7: Float = 0
                    for t in block {
                        let x = aRowBase[t &* aStep], o = t &* bStep
                        s0 = s0.addingProduct(x, b0[o])
                        s1 = s1.addingProduct(x, b1[o])
                        s2 = s2.addingProduct(x, b2[o])
                        s3 = s3.addingProduct(x, b3[o])
                        s4 = s4.addingProduct(x, b4[o])
                        s5 = s5.addingProduct(x, b5[o])
                        s6 = s6.addingProduct(x, b6[o])
                        s7 = s7.addingProduct(x, b7[o])
                    }
                    let first = k == 0
                    out[e] = first ? s0 : s0 + out[e]
                    out[e + 1] = first ? s1 : s1 + out[e + 1]
                    out[e + 2] = first ? s2 : s2 + out[e + 2]
                    out[e + 3] = first ? s3 : s3 + out[e + 3]
                    out[e + 4] = first ? s4 : s4 + out[e + 4]
                    out[e + 5] = first ? s5 : s5 + out[e + 5]
                    out[e + 6] = first ? s6 : s6 + out[e + 6]
                    out[e + 7] = first ? s7 : s7 + out[e + 7]
                }
                e += 8
            }
            while e < end {
                let b0 = b + Int(index[e]) &* bRow
                for (k, block) in blocks.enumerated() {
                    var s0: Float = 0
                    for t in block { s0 = s0.addingProduct(aRowBase[t &* aStep], b0[t &* bStep]) }
                    out[e] = k == 0 ? s0 : s0 + out[e]
                }
                e += 1
            }
        }
    }

    /// Splits a row's entries (sorted by index) at the k-block boundaries: block b's entries are
    /// `cuts[b] ..< cuts[b + 1]`.
    @inline(__always)
    private static func cut(entries: Range<Int>, index: UnsafePointer<Int32>, blocks: [Range<Int>],
                            into cuts: UnsafeMutablePointer<Int>) {
        var e = entries.lowerBound
        cuts[0] = e
        for (b, block) in blocks.enumerated() {
            if b == blocks.count - 1 {
                e = entries.upperBound
            } else {
                while e < entries.upperBound && Int(index[e]) < block.upperBound { e += 1 }
            }
            cuts[b + 1] = e
        }
    }
}

extension SparseKernels {
    /// `rowsTimesDense` for long rows (`n` in the hundreds or more: the direct convolutions'
    /// padded planes), entry-major: each output row, in L1, is swept once per eight entries, and
    /// each entry streams its dense run from start to end. The strips of `rowsTimesDense` start a
    /// new short run at every entry of every strip instead (the hardware prefetchers never get
    /// going), which left them 2.5× slower per multiply-add than `windowDots` on VGG-16's sparse
    /// layers. Same chains: each output element is `fma(value, dense, sum)` over the entries in
    /// order from +0, per k-block, the blocks' sums added in order.
    ///
    /// A k-block's entries take one sweep per eight, the last sweep as many as are left (at low
    /// density a block holds a handful: VGG-16's conv9 at 0.02 keeps about ten per row and block,
    /// its five blocks each took a sweep of eight and two of one). The block's first sweep starts
    /// its chains from +0 in registers and the last sweep of a later block adds its sums to the
    /// output row as it goes, instead of passes that zero the row and add a block's sums to it.
    ///
    /// With `runs` > 1 each output row is `runs` runs of `n` floats side by side, run s reading
    /// the dense rows `runStride · s` floats further on (the interleaved layout's output rows,
    /// `Conv+SparseInterleaved.swift`): each sweep of up to eight entries goes over every run.
    static func rowsTimesDenseByEntries(start: UnsafePointer<Int32>, index: UnsafePointer<Int32>, values: UnsafePointer<Float>,
                                        rows: Range<Int>, blocks: [Range<Int>], dense: UnsafePointer<Float>, ldd: Int, n: Int,
                                        out: UnsafeMutablePointer<Float>, ldo: Int, runs: Int = 1, runStride: Int = 0) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: blocks.count + 1) { buffer in
            let cuts = buffer.baseAddress!
            // A later k-block's chains run here between its sweeps.
            let blockSum = blocks.count > 1 ? UnsafeMutablePointer<Float>.allocate(capacity: runs * n) : nil
            defer { blockSum?.deallocate() }
            for r in rows {
                cut(entries: Int(start[r])..<Int(start[r + 1]), index: index, blocks: blocks, into: cuts)
                let target = out + r * ldo
                for b in 0..<blocks.count {
                    let (first, end) = (cuts[b], cuts[b + 1])
                    guard first < end else {
                        // An empty chain is +0: the first block writes it; a later one would add
                        // +0 to a sum that started from +0, never −0, which changes nothing.
                        if b == 0 { target.update(repeating: 0, count: runs * n) }
                        continue
                    }
                    let sum = b == 0 ? target : blockSum!
                    var e = first
                    while e < end {
                        let sweep = EntrySweep(index: index + e, values: values + e, dense: dense, ldd: ldd, n: n,
                                               runs: runs, runStride: runStride, sum: sum, fromZero: e == first,
                                               addingTo: b > 0 && end - e <= 8 ? target : nil)
                        switch Swift.min(8, end - e) {
                        case 8: sweep.run(Pass8.self)
                        case 7: sweep.run(Pass7.self)
                        case 6: sweep.run(Pass6.self)
                        case 5: sweep.run(Pass5.self)
                        case 4: sweep.run(Pass4.self)
                        case 3: sweep.run(Pass3.self)
                        case 2: sweep.run(Pass2.self)
                        default: sweep.run(Pass1.self)
                        }
                        e += 8
                    }
                }
            }
        }
    }
}

/// One sweep of `rowsTimesDenseByEntries` over an output row: the next `W.width` FMAs of each
/// position's chain, in entry order, from the row's `sum` (or from +0, `fromZero`) back to `sum`
/// (or, `addingTo`, the block's finished sums added to that row: `target = sum + target`).
private struct EntrySweep {
    let index: UnsafePointer<Int32>, values: UnsafePointer<Float>
    let dense: UnsafePointer<Float>, ldd: Int, n: Int
    /// Runs of `n` outputs side by side, run k reading `runStride · k` floats further on.
    let runs: Int, runStride: Int
    let sum: UnsafeMutablePointer<Float>
    let fromZero: Bool, addingTo: UnsafeMutablePointer<Float>?

    @inline(__always)
    func run<W: PassWidth>(_: W.Type) {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
        @inline(__always) func run(_ k: Int) -> UnsafePointer<Float> { k < W.width ? dense + Int(index[k]) &* ldd : dense }
        @inline(__always) func value(_ k: Int) -> Float { k < W.width ? values[k] : 0 }
        let width = W.width
        let (r0, r1, r2, r3, r4, r5, r6, r7) = (run(0), run(1), run(2), run(3), run(4), run(5), run(6), run(7))
        let (a0, a1, a2, a3, a4, a5, a6, a7) = (value(0), value(1), value(2), value(3), value(4), value(5), value(6), value(7))
        // The four ways in and out of a sweep each get their own loop (one loop testing both
        // flags kept its eight run pointers on the stack and branched at every step).
        @inline(__always) func sweep(_ start: (Int) -> SIMD16<Float>, _ finish: (SIMD16<Float>, Int) -> Void,
                                     _ startScalar: (Int) -> Float, _ finishScalar: (Float, Int) -> Void) {
            var segment = 0
            while segment < runs {
                let (q, o) = (segment &* runStride, segment &* n)
                var p = 0
                while p + 16 <= n {
                    var acc = start(o &+ p)
                    acc.addProduct(SIMD16(repeating: a0), load(r0 + (q &+ p)))
                    if width > 1 { acc.addProduct(SIMD16(repeating: a1), load(r1 + (q &+ p))) }
                    if width > 2 { acc.addProduct(SIMD16(repeating: a2), load(r2 + (q &+ p))) }
                    if width > 3 { acc.addProduct(SIMD16(repeating: a3), load(r3 + (q &+ p))) }
                    if width > 4 { acc.addProduct(SIMD16(repeating: a4), load(r4 + (q &+ p))) }
                    if width > 5 { acc.addProduct(SIMD16(repeating: a5), load(r5 + (q &+ p))) }
                    if width > 6 { acc.addProduct(SIMD16(repeating: a6), load(r6 + (q &+ p))) }
                    if width > 7 { acc.addProduct(SIMD16(repeating: a7), load(r7 + (q &+ p))) }
                    finish(acc, o &+ p)
                    p &+= 16
                }
                while p < n {
                    var s = startScalar(o &+ p)
                    s = s.addingProduct(a0, r0[q &+ p])
                    if width > 1 { s = s.addingProduct(a1, r1[q &+ p]) }
                    if width > 2 { s = s.addingProduct(a2, r2[q &+ p]) }
                    if width > 3 { s = s.addingProduct(a3, r3[q &+ p]) }
                    if width > 4 { s = s.addingProduct(a4, r4[q &+ p]) }
                    if width > 5 { s = s.addingProduct(a5, r5[q &+ p]) }
                    if width > 6 { s = s.addingProduct(a6, r6[q &+ p]) }
                    if width > 7 { s = s.addingProduct(a7, r7[q &+ p]) }
                    finishScalar(s, o &+ p)
                    p &+= 1
                }
                segment &+= 1
            }
        }
        @inline(__always) func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
        }
        let sum = self.sum
        switch (fromZero, addingTo) {
        case (true, nil):
            sweep({ _ in SIMD16<Float>() }, { acc, p in store(acc, sum + p) }, { _ in 0 }, { s, p in sum[p] = s })
        case (false, nil):
            sweep({ p in load(sum + p) }, { acc, p in store(acc, sum + p) }, { p in sum[p] }, { s, p in sum[p] = s })
        case (true, let target?):
            sweep({ _ in SIMD16<Float>() }, { acc, p in store(acc + load(target + p), target + p) },
                  { _ in 0 }, { s, p in target[p] = s + target[p] })
        case (false, let target?):
            sweep({ p in load(sum + p) }, { acc, p in store(acc + load(target + p), target + p) },
                  { p in sum[p] }, { s, p in target[p] = s + target[p] })
        }
    }
}

/// How many entries or dot products one pass of a sparse kernel takes (a sweep of
/// `rowsTimesDenseByEntries`, a pass of `SparseKernels.windowDots`), as a type: each width is
/// its own specialization, its unused registers gone (a width passed at run time left the
/// branches in the loop).
protocol PassWidth { static var width: Int { get } }
enum Pass1: PassWidth { static var width: Int { 1 } }
enum Pass2: PassWidth { static var width: Int { 2 } }
enum Pass3: PassWidth { static var width: Int { 3 } }
enum Pass4: PassWidth { static var width: Int { 4 } }
enum Pass5: PassWidth { static var width: Int { 5 } }
enum Pass6: PassWidth { static var width: Int { 6 } }
enum Pass7: PassWidth { static var width: Int { 7 } }
enum Pass8: PassWidth { static var width: Int { 8 } }

/// The sparse products of `Tensor+Sparse.swift` and `Conv+Sparse.swift`, and how they split
/// across threads.
enum SparseKernels {
    /// The dense GEMM's k-blocks for a product of depth `k` (`GEMM.kBlocks`: equal parts of
    /// at most `GEMM.kcMax`). The sparse chains split where the dense ones do.
    static func kBlocks(_ k: Int) -> [Range<Int>] {
        let count = Swift.max(1, (k + GEMM.kcMax - 1) / GEMM.kcMax)
        return (0..<count).map { k * $0 / count ..< k * ($0 + 1) / count }
    }

    /// Kept fraction above which a layer's weight gradient is the dense GEMM's, gathered at the
    /// kept positions (`sparseLinearWeightGrad`, `sparseConv2dWeightGrad`), rather than the
    /// sampled product: each sampled multiply-add moves its operands into a lane, several of the
    /// GEMM's, so it stops winning near here (2026-11-30: a 3×3 convolution's weight gradient took
    /// as long either way at 0.09–0.13; a 300 × 784 layer's at 0.1, batch 64, 223 µs against the
    /// GEMM's 285 µs).
    static let sampledProductLimit = 0.1

    /// Runs `body` over contiguous ranges of `0..<parts` independent parts (output rows, tiles of
    /// entries), on several threads only when the product has enough `work` (its multiply-adds)
    /// to pay for waking them. Each part is computed by one thread from start to end, so the
    /// split never changes a result.
    ///
    /// The threshold is a quarter of the GEMM's: a sparse multiply-add costs several of the
    /// GEMM's (an indexed load each, or a transposed operand), so the same wake-up pays off at
    /// fewer of them. On the Intel Xeon (perf, 2026-12-01) LeNet-300-100's sparse forward ran at
    /// about 10 and its sampled weight gradient at about 4 G multiply-adds per second and core,
    /// the GEMM at about 50; with the GEMM's threshold, fc1's forward at density 0.1 (15k kept
    /// weights × 64 samples) ran on one thread.
    static func forEachPart(_ parts: Int, work: Int, threads: Int? = nil, _ body: (Range<Int>) -> Void) {
        let workers = 4 * work >= GEMM.parallelThreshold ? (threads ?? Parallel.threads) : 1
        Parallel.forEach(parts, threads: workers, body)
    }
}
