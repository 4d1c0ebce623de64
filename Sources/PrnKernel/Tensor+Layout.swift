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
        // Bands of 8 source rows, 8 × 8 blocks transposed in registers; the band's last
        // columns and the last band's rows one by one (the sparse kernels transpose every
        // layer's activations, so this is on the training path).
        return Tensor.build([columns, rows]) { out in
            scalars.withUnsafeBufferPointer { x in
                let (x, out) = (x.baseAddress!, out.baseAddress!)
                for i0 in stride(from: 0, to: rows, by: 8) {
                    let band = Swift.min(8, rows - i0)
                    var j = 0
                    if band == 8 {
                        while j + 8 <= columns {
                            var block = Tile8(x + i0 * columns + j, stride: columns)
                            block.transpose()
                            block.store(out + j * rows + i0, stride: rows)
                            j += 8
                        }
                    }
                    while j < columns {
                        let target = out + j * rows + i0
                        let source = x + i0 * columns + j
                        for i in 0..<band { target[i] = source[i * columns] }
                        j += 1
                    }
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
