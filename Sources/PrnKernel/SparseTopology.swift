/// Where the kept weights of a masked layer are: the CSR and CSC index arrays of a 0/1 mask,
/// viewed as a matrix of `rows` (output units or channels) × `columns` (everything else).
///
/// Built once per mask (the pattern does not change between prune steps); the weights themselves
/// stay in their dense tensor and are gathered through `positions` when a product needs them,
/// so a training step never copies the topology. Entries are in row-major order, and within each
/// row by increasing column — the order in which the dense GEMM's FMA chain meets them — and the
/// CSC arrays list each column's entries by increasing row, likewise.
///
/// ```swift
/// let topology = SparseTopology(mask: mask)           // mask [300, 784] of 0/1
/// topology.count                                      // kept weights
/// ```
///
/// The CSC arrays come from a counting sort over the columns (scipy's `csr_tocsc`):
/// `cscRowIndex[q]` is the row of the q-th entry in column order, and `cscEntry[q]` its position
/// in row order, so the values of the transpose are a gather `values[cscEntry[q]]`.
public final class SparseTopology: Sendable {
    public let rows: Int, columns: Int
    /// The mask's shape: that of the dense weight.
    public let shape: [Int]
    /// `rowStart[r] ..< rowStart[r + 1]` are the entries of row r (CSR `indptr`).
    public let rowStart: [Int32]
    /// Column of each entry (CSR `indices`).
    public let columnIndex: [Int32]
    /// `columnStart[c] ..< columnStart[c + 1]` are the entries of column c in column order.
    public let columnStart: [Int32]
    /// Row of each entry in column order.
    public let cscRowIndex: [Int32]
    /// Position in row order of each entry in column order.
    public let cscEntry: [Int32]
    /// Flat index `r · columns + c` of each entry in row order, for gathering and scattering.
    public let positions: [Int32]
    /// The entries grouped for the sampled product (`Sparse+Sampled.swift`).
    let sampledTiles: SampledTiles
    /// A fully connected topology with few used rows or columns: the same entries over those
    /// only (`UsedPart`), which the products of `Tensor+Sparse.swift` run on.
    let usedPart: UsedPart?

    /// The kept entries (`mask != 0`) of a mask whose first axis is the rows. The mask must have
    /// fewer than 2³¹ elements.
    public convenience init(mask: Tensor) { self.init(mask: mask, reducing: mask.rank == 2) }

    /// With `reducing`, also the `UsedPart` when it drops rows or columns.
    init(mask: Tensor, reducing: Bool) {
        precondition(mask.rank >= 1 && mask.count < Int(Int32.max), "SparseTopology: mask \(mask.shape)")
        let rows = mask.shape[0], columns = rows == 0 ? 0 : mask.count / rows
        self.rows = rows
        self.columns = columns
        self.shape = mask.shape
        var rowStart = [Int32](repeating: 0, count: rows + 1)
        var columnIndex: [Int32] = [], positions: [Int32] = []
        var perColumn = [Int32](repeating: 0, count: columns + 1)
        mask.scalars.withUnsafeBufferPointer { m in
            for r in 0..<rows {
                for c in 0..<columns where m[r * columns + c] != 0 {
                    columnIndex.append(Int32(c))
                    positions.append(Int32(r * columns + c))
                    perColumn[c + 1] += 1
                }
                rowStart[r + 1] = Int32(columnIndex.count)
            }
        }
        // Counting sort by column: prefix sums give each column's start; rows are visited in
        // increasing order, so each column's entries come out sorted by row.
        for c in 0..<columns { perColumn[c + 1] += perColumn[c] }
        let columnStart = perColumn
        var next = perColumn
        var cscRowIndex = [Int32](repeating: 0, count: columnIndex.count)
        var cscEntry = [Int32](repeating: 0, count: columnIndex.count)
        for r in 0..<rows {
            for e in Int(rowStart[r])..<Int(rowStart[r + 1]) {
                let c = Int(columnIndex[e]), q = Int(next[c])
                cscRowIndex[q] = Int32(r)
                cscEntry[q] = Int32(e)
                next[c] += 1
            }
        }
        self.rowStart = rowStart
        self.columnIndex = columnIndex
        self.columnStart = columnStart
        self.cscRowIndex = cscRowIndex
        self.cscEntry = cscEntry
        self.positions = positions
        sampledTiles = SampledTiles(rowStart: rowStart)
        usedPart = reducing ? UsedPart(mask: mask, rowStart: rowStart, columnStart: columnStart) : nil
    }

    /// Kept entries.
    public var count: Int { columnIndex.count }

    /// Kept fraction of the matrix.
    public var density: Double { rows * columns == 0 ? 0 : Double(count) / Double(rows * columns) }

    /// The weights at the kept positions of `weight`, in row order (`order == .rows`) or column
    /// order. `weight` is dense (any shape with `rows · columns` elements) or compact.
    public func gather(_ weight: Tensor, order: EntryOrder = .rows) -> [Float] {
        let compact = isCompact(weight.shape)
        precondition(compact || weight.count == rows * columns, "SparseTopology.gather: \(weight.shape) for \(rows)×\(columns)")
        if compact && order == .rows { return weight.scalars }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            weight.scalars.withUnsafeBufferPointer { w in
                positions.withUnsafeBufferPointer { at in
                    cscEntry.withUnsafeBufferPointer { entry in
                        switch (order, compact) {
                        case (.rows, _):
                            for e in 0..<at.count { out[e] = w[Int(at[e])] }
                        case (.columns, false):
                            for q in 0..<entry.count { out[q] = w[Int(at[Int(entry[q])])] }
                        case (.columns, true):
                            for q in 0..<entry.count { out[q] = w[Int(entry[q])] }
                        }
                    }
                }
            }
            initialized = count
        }
    }

    /// The compact form of a weight: its kept values only, a rank-1 tensor of `count` in row
    /// order. The sparse products take a weight in either form and give its gradient in the same
    /// form; training binds compact weights, so no dense gradient is ever zero-filled.
    public func compact(_ weight: Tensor) -> Tensor { Tensor(shape: [count], scalars: gather(weight)) }

    /// Whether `shape` is that of a compact weight (a dense weight has rank 2 or more).
    public func isCompact(_ shape: [Int]) -> Bool { shape == [count] }

    /// The dense shape of a weight of `shape`, compact or dense.
    public func denseShape(_ shape: [Int]) -> [Int] { isCompact(shape) ? self.shape : shape }

    /// The gradient of a weight of `shape` from its values at the kept entries: compact, or
    /// dense with zeros outside the topology.
    public func gradient(_ kept: [Float], shape: [Int]) -> Tensor {
        isCompact(shape) ? Tensor(shape: shape, scalars: kept) : scatter(kept, shape: shape)
    }

    /// The order of a gathered value list: row-major (CSR) or column-major (CSC).
    public enum EntryOrder: Sendable { case rows, columns }
}

/// The rows and columns of a fully connected topology that hold a kept entry, when at most a
/// quarter of the rows or of the columns do (global SynFlow on LeNet-300-100 at density 0.005
/// keeps weights in 17 of fc1's 300 rows and 18 of fc2's 300 columns). The products then transpose
/// only the used features of their batch operands (`featureMajorInput`, `featureMajorGradient`),
/// compute only the used rows of their results and place them among zeros, instead of
/// transposing and computing zeros (the pruned features' outputs are exactly the +0 the empty
/// chains give).
///
/// `topology` is the mask restricted to `rows` × `columns`: the same entries in the same order
/// (row-major and column-major), each at the ranks of its row and column there. A side with more
/// than a quarter of its features used keeps them all: picking half of fc1's 784 input features
/// one scalar at a time took longer than the whole transpose in 8 × 8 blocks (perf shares,
/// 2026-12-01).
struct UsedPart: Sendable {
    let topology: SparseTopology
    /// The original rows and columns the sub-topology's stand for, increasing.
    let rows: [Int32], columns: [Int32]
    /// Whether a side dropped features (else its list is every row or column).
    let rowsReduced: Bool, columnsReduced: Bool
    /// The dense chains' k-blocks (`SparseKernels.kBlocks` of the whole depth) in the
    /// sub-topology's columns (the depth of its row-order product) and rows (the column-order one).
    let columnBlocks: [Range<Int>], rowBlocks: [Range<Int>]

    /// Nil when more than a quarter of the rows and of the columns are used.
    init?(mask: Tensor, rowStart: [Int32], columnStart: [Int32]) {
        let (rowCount, columnCount) = (rowStart.count - 1, columnStart.count - 1)
        let usedRows = (0..<rowCount).filter { rowStart[$0] < rowStart[$0 + 1] }
        let usedColumns = (0..<columnCount).filter { columnStart[$0] < columnStart[$0 + 1] }
        rowsReduced = 4 * usedRows.count <= rowCount
        columnsReduced = 4 * usedColumns.count <= columnCount
        guard rowsReduced || columnsReduced else { return nil }
        let rows = rowsReduced ? usedRows : Array(0..<rowCount)
        let columns = columnsReduced ? usedColumns : Array(0..<columnCount)
        var sub = [Float](repeating: 0, count: rows.count * columns.count)
        mask.scalars.withUnsafeBufferPointer { m in
            for (i, r) in rows.enumerated() {
                for (j, c) in columns.enumerated() { sub[i * columns.count + j] = m[r * columnCount + c] }
            }
        }
        topology = SparseTopology(mask: Tensor(shape: [rows.count, columns.count], scalars: sub), reducing: false)
        self.rows = rows.map(Int32.init)
        self.columns = columns.map(Int32.init)
        // A block boundary b becomes the number of kept features below it.
        func blocks(_ depth: Int, _ kept: [Int]) -> [Range<Int>] {
            SparseKernels.kBlocks(depth).map { block in
                (kept.firstIndex { $0 >= block.lowerBound } ?? kept.count) ..< (kept.firstIndex { $0 >= block.upperBound } ?? kept.count)
            }
        }
        columnBlocks = blocks(columnCount, columns)
        rowBlocks = blocks(rowCount, rows)
    }
}
