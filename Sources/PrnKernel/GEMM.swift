/// Single-precision matrix multiply.
///
/// Placeholder until the packed SIMD kernel lands: forwards to the reference.
public enum GEMM {
    /// `C[m×n] = alpha · op(A) · op(B) + beta · C`, row-major, `op(X) = Xᵀ` when the flag is set.
    /// With `beta == 0`, C is not read. The result does not depend on `threads`.
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int? = nil) {
        naive(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
              b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}
