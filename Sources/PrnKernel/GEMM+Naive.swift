extension GEMM {
    /// The reference: a triple loop with Double accumulation, for tests.
    ///
    /// `C[m×n] = alpha · op(A) · op(B) + beta · C`, row-major, `op(X) = Xᵀ` when the flag is set.
    /// With `beta == 0`, C is not read (it may be uninitialized).
    public static func naive(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var acc: Double = 0
                for p in 0..<k {
                    let x = transA ? a[p * lda + i] : a[i * lda + p]
                    let y = transB ? b[j * ldb + p] : b[p * ldb + j]
                    acc += Double(x) * Double(y)
                }
                let scaled = Float(Double(alpha) * acc)
                c[i * ldc + j] = beta == 0 ? scaled : scaled + beta * c[i * ldc + j]
            }
        }
    }
}
