// op(A) packed once by its producer, for many products with the same A (`GEMM+Driver.swift`
// packs it per call).

extension GEMM {
    /// op(A) of `C = op(A) · op(B)` laid out in the slivers `sgemm` would pack (`GEMM+Pack.swift`),
    /// for products that share A and differ in B: Winograd's α² transformed weights meet every
    /// group of tiles, and packed per call each group (on two threads, each thread) packed its
    /// own copy of them again. Its producer writes it in that order (`sourceIndices`); then
    /// `sgemm(packedA:…)` gives the bits `sgemm` gives for the same A: the same slivers, the
    /// same k-blocks (a function of k alone), the same chains.
    ///
    /// Layout: per panel of `panelSize` rows, per k-block, the panel's row slivers one after the
    /// other, each `tiling.rows · kc` floats (a last, partial sliver padded as `pack` pads it).
    @_spi(Bench) public final class PackedA: @unchecked Sendable {
        let m: Int, k: Int
        /// The tiling the slivers were cut for; a product must run with the same one.
        let tiling: Tiling
        /// The packed floats, `count` of them; the next matrix of a `batch` starts `stride`
        /// floats on (64-byte aligned).
        let elements: UnsafeMutablePointer<Float>
        let count: Int, stride: Int
        /// The panels' rows, and where each panel's slivers start.
        private let panels: [Range<Int>], panelOffsets: [Int]
        /// The allocation `elements` lies in, shared by a batch.
        private let storage: Storage

        /// Owns a batch's floats.
        private final class Storage {
            let floats: UnsafeMutablePointer<Float>
            init(count: Int) {
                floats = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
            }
            deinit { floats.deallocate() }
        }

        /// `count` matrices op(A) (m × k) laid out for the current tiling, in one allocation
        /// (`stride` floats apart, so a producer can write all of them in one pass, as
        /// Winograd's weight transform writes its α² positions), their floats not yet written:
        /// the producer writes them in layout order (`sourceIndices`).
        static func batch(_ count: Int, m: Int, k: Int) -> [PackedA] {
            precondition(m > 0 && k > 0, "PackedA: empty")
            let tiling = Tiling.current
            let panels = (0..<m).pieces(of: panelSize)
            let sliverRows = panels.map { ($0.count + tiling.rows - 1) / tiling.rows * tiling.rows }
            let floats = sliverRows.reduce(0, +) * k, stride = (floats + 15) & ~15
            let storage = Storage(count: Swift.max(1, count * stride))
            return (0..<count).map { index in
                PackedA(m: m, k: k, tiling: tiling, panels: panels, sliverRows: sliverRows, count: floats, stride: stride,
                        storage: storage, elements: storage.floats + index * stride)
            }
        }

        private init(m: Int, k: Int, tiling: Tiling, panels: [Range<Int>], sliverRows: [Int], count: Int, stride: Int,
                     storage: Storage, elements: UnsafeMutablePointer<Float>) {
            (self.m, self.k, self.tiling, self.panels, self.count, self.stride) = (m, k, tiling, panels, count, stride)
            panelOffsets = sliverRows.indices.map { sliverRows[..<$0].reduce(0, +) * k }
            (self.storage, self.elements) = (storage, elements)
        }

        /// `count` row-major m × k matrices `a` (one after the other), packed as `sgemm` packs
        /// op(A) = A with alpha 1: for benchmarks of the products Winograd makes with them.
        @_spi(Bench) public static func packing(_ a: UnsafePointer<Float>, count: Int, m: Int, k: Int) -> [PackedA] {
            let packed = batch(count, m: m, k: k), sources = packed[0].sourceIndices()
            for (index, matrix) in packed.enumerated() {
                let source = a + index * m * k
                for (at, element) in sources.enumerated() {
                    matrix.elements[at] = element < 0 ? 0 : source[element % m * k + element / m]
                }
            }
            return packed
        }

        /// For each packed float in order, the element of op(A) it holds, as `p · m + i` for
        /// op(A)[i][p] (its index in the k × m matrix op(A)ᵀ), or −1 for padding (the rows past a
        /// last, partial sliver, which the kernels multiply into tile rows they discard).
        func sourceIndices() -> [Int] {
            var sources = [Int](repeating: -1, count: count)
            for rows in panels {
                for block in GEMM.kBlocks(k) {
                    for i0 in Swift.stride(from: rows.lowerBound, to: rows.upperBound, by: tiling.rows) {
                        let live = Swift.min(tiling.rows, rows.upperBound - i0)
                        let width = live == tiling.rows ? live : tiling.paddedRows(live)
                        let first = sliver(row: i0, kBlock: block) - elements
                        for p in block {
                            let at = first + (p - block.lowerBound) * width
                            for r in 0..<live { sources[at + r] = p * m + i0 + r }
                        }
                    }
                }
            }
            return sources
        }

        /// The packed sliver of op(A) whose first row is `row` (a sliver boundary of its panel),
        /// for the k-block `kBlock`.
        func sliver(row: Int, kBlock: Range<Int>) -> UnsafeMutablePointer<Float> {
            let panel = row / panelSize, inPanel = row - panel * panelSize
            let sliverRows = (panels[panel].count + tiling.rows - 1) / tiling.rows * tiling.rows
            return elements + panelOffsets[panel] + sliverRows * kBlock.lowerBound + inPanel * kBlock.count
        }
    }

    /// `C[m×n] = A · op(B) + beta · C` for an A packed beforehand (any alpha and transposition
    /// applied by its producer); otherwise as `sgemm`, bit for bit. Threads split C's columns
    /// (or, when there are fewer column slivers than threads, whole row slivers), each packing
    /// only the part of B it reads.
    @_spi(Bench) public static func sgemm(packedA a: PackedA, transB: Bool, n: Int, b: UnsafePointer<Float>, ldb: Int,
                                          beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int? = nil,
                                          knobs: Knobs = .environment) {
        precondition(n >= 0 && ldc >= n && ldb >= (transB ? a.k : n), "sgemm: bad shape")
        precondition(a.tiling == Tiling.current, "sgemm: A was packed for another tiling")
        guard n > 0 else { return }
        let workers = workerCount(m: a.m, n: n, k: a.k, tiling: a.tiling, requested: threads ?? Parallel.threads)
        let shape = CallShape(m: a.m, n: n, k: a.k, transA: false, transB: transB, packedA: true, workers: workers)
        let job = Job(transA: false, transB: transB, k: a.k, alpha: 1, a: nil, lda: 0, packedA: a,
                      b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, tiling: a.tiling, knobs: knobs,
                      stopwatch: knobs.timing ? Stopwatch(shape) : nil)
        defer { job.stopwatch?.finish() }
        for i0 in stride(from: 0, to: a.m, by: panelSize) {
            for j0 in stride(from: 0, to: n, by: panelSize) {
                job.run(rows: i0..<min(i0 + panelSize, a.m), columns: j0..<min(j0 + panelSize, n), workers: workers)
            }
        }
    }
}
