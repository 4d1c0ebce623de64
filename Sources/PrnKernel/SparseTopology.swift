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

    /// The kept entries (`mask != 0`) of a mask whose first axis is the rows. The mask must have
    /// fewer than 2³¹ elements.
    public init(mask: Tensor) {
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
