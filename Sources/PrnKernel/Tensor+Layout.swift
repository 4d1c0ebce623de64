/// Axis permutations and matrix products.
extension Tensor {
    /// The axes reordered: result axis i is this tensor's axis `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "bad permutation \(order) for rank \(rank)")
        if order == Array(0..<rank) { return self }
        let newShape = order.map { shape[$0] }
        let own = Shape.strides(shape)
        let readStrides = order.map { own[$0] }
        return Tensor.build(newShape) { out in
            scalars.withUnsafeBufferPointer { x in
                Tensor.forEachRow(newShape, readStrides, readStrides) { row, off, _, inner, stride, _ in
                    let o = row * inner
                    for j in 0..<inner { out[o + j] = x[off + j * stride] }
                }
            }
        }
    }

    /// The transpose of a matrix.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a matrix")
        let (rows, columns) = (shape[0], shape[1])
        let (fullRows, fullColumns) = (rows / 8 * 8, columns / 8 * 8)
        // 8 × 8 blocks transposed in registers, a band of 8 source columns at a time: the band's
        // 8 output rows are written whole before the next band's, and the source lines it read
        // hold the next band's columns too, still in L1. Band by band of 8 source rows instead
        // (each band writing 32 bytes into every output row), a [64, 784] batch took 1.5× as
        // long (15 µs against 10, one thread, 2026-12-01). The last rows of every column and
        // the last columns of the full rows go one by one. The sparse kernels transpose every
        // layer's activations, so this is on the training path.
        return Tensor.build([columns, rows]) { out in
            scalars.withUnsafeBufferPointer { x in
                let (x, out) = (x.baseAddress!, out.baseAddress!)
                for j in stride(from: 0, to: fullColumns, by: 8) {
                    for i0 in stride(from: 0, to: fullRows, by: 8) {
                        var block = Tile8(x + i0 * columns + j, stride: columns)
                        block.transpose()
                        block.store(out + j * rows + i0, stride: rows)
                    }
                }
                for j in 0..<columns {
                    for i in (j < fullColumns ? fullRows : 0)..<rows { out[j * rows + i] = x[i * columns + j] }
                }
            }
        }
    }

    /// `op(self) @ op(other)` for matrices, with `op` a transpose when the flag is set. The
    /// transposes are read in place by the GEMM, never materialized.
    public func matmul(_ other: Tensor, transA: Bool = false, transB: Bool = false) -> Tensor {
        let outShape = try! Shape.matmul(shape, other.shape, transA: transA, transB: transB)
        let k = transA ? shape[0] : shape[1]
        return Tensor.build(outShape) { out in
            scalars.withUnsafeBufferPointer { a in
                other.scalars.withUnsafeBufferPointer { b in
                    GEMM.sgemm(transA: transA, transB: transB, m: outShape[0], n: outShape[1], k: k,
                               alpha: 1, a: a.baseAddress!, lda: shape[1],
                               b: b.baseAddress!, ldb: other.shape[1],
                               beta: 0, c: out.baseAddress!, ldc: outShape[1])
                }
            }
        }
    }
}
