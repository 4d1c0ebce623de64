// op(A) packed once, for many products with the same A (`GEMM+Driver.swift` packs it per call).

extension GEMM {
    /// op(A) of `C = op(A) · op(B)` packed in the slivers `sgemm` would pack (`GEMM+Pack.swift`),
    /// for products that share A and differ in B: Winograd's α² transformed weights meet every
    /// group of tiles, and without this each group (on two threads, each thread) packed its own
    /// copy of them again. `sgemm(packedA:…)` gives the bits `sgemm` gives: the same slivers
    /// (alpha applied while packing), the same k-blocks (a function of k alone), the same chains.
    ///
    /// Layout: per panel of `panelSize` rows, per k-block, the panel's row slivers one after the
    /// other, each `tiling.rows · kc` floats (a last, partial sliver padded as `pack` pads it).
    final class PackedA: @unchecked Sendable {
        let m: Int, k: Int
        /// The tiling the slivers were cut for; a product must run with the same one.
        let tiling: Tiling
        private let buffer: UnsafeMutablePointer<Float>
        /// Where each panel's slivers start.
        private let panelOffsets: [Int]

        /// Packs `alpha · op(A)` (m × k, `op(A) = Aᵀ` when `transA`), row-major with leading
        /// dimension `lda`, on up to `threads` threads (the slivers do not depend on it).
        init(transA: Bool, m: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int, threads: Int? = nil) {
            precondition(m > 0 && k > 0 && lda >= (transA ? m : k), "PackedA: bad shape")
            let tiling = Tiling.current
            (self.m, self.k, self.tiling) = (m, k, tiling)
            let panels = stride(from: 0, to: m, by: panelSize).map { $0..<Swift.min($0 + panelSize, m) }
            let sliverRows = panels.map { ($0.count + tiling.rows - 1) / tiling.rows * tiling.rows }
            panelOffsets = sliverRows.indices.map { sliverRows[..<$0].reduce(0, +) * k }
            buffer = UnsafeMutableRawPointer.allocate(byteCount: sliverRows.reduce(0, +) * k * 4, alignment: 64)
                .bindMemory(to: Float.self, capacity: sliverRows.reduce(0, +) * k)
            for (panel, rows) in panels.enumerated() {
                let slivers = sliverRows[panel] / tiling.rows
                for block in GEMM.kBlocks(k) {
                    let kc = block.count, p = block.lowerBound
                    Parallel.forEach(slivers, threads: threads) { part in
                        let i = rows.lowerBound + part.lowerBound * tiling.rows
                        let count = Swift.min(rows.upperBound, i + part.count * tiling.rows) - i
                        // op(A)[i][p] is a[p·lda + i] for Aᵀ, else a[i·lda + p].
                        packSlivers(transA ? a + p * lda + i : a + i * lda + p, ld: lda, contiguous: transA, kc: kc,
                                    count: count, tile: tiling.rows, lastTile: tiling.paddedRows, scale: alpha,
                                    into: sliver(row: i, kBlock: block), sliverStride: tiling.rows * kc)
                    }
                }
            }
        }

        deinit { buffer.deallocate() }

        /// The packed sliver of op(A) whose first row is `row` (a sliver boundary of its panel),
        /// for the k-block `kBlock`.
        @inline(__always)
        func sliver(row: Int, kBlock: Range<Int>) -> UnsafeMutablePointer<Float> {
            let panel = row / panelSize, inPanel = row - panel * panelSize
            let panelRows = Swift.min(panelSize, m - panel * panelSize)
            let sliverRows = (panelRows + tiling.rows - 1) / tiling.rows * tiling.rows
            return buffer + panelOffsets[panel] + sliverRows * kBlock.lowerBound + inPanel * kBlock.count
        }
    }

    /// `C[m×n] = A · op(B) + beta · C` for an A packed beforehand (which holds alpha and the
    /// transposition); otherwise as `sgemm`, bit for bit. Threads split C's columns (or, when
    /// there are fewer column slivers than threads, whole row slivers), each packing only the part
    /// of B it reads.
    static func sgemm(packedA a: PackedA, transB: Bool, n: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int? = nil) {
        precondition(n >= 0 && ldc >= n && ldb >= (transB ? a.k : n), "sgemm: bad shape")
        precondition(a.tiling == Tiling.current, "sgemm: A was packed for another tiling")
        guard n > 0 else { return }
        let job = Job(transA: false, transB: transB, k: a.k, alpha: 1, a: nil, lda: 0, packedA: a,
                      b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, tiling: a.tiling)
        let workers = workerCount(m: a.m, n: n, k: a.k, tiling: a.tiling, requested: threads ?? Parallel.threads)
        for i0 in stride(from: 0, to: a.m, by: panelSize) {
            for j0 in stride(from: 0, to: n, by: panelSize) {
                job.run(rows: i0..<min(i0 + panelSize, a.m), columns: j0..<min(j0 + panelSize, n), workers: workers)
            }
        }
    }
}
