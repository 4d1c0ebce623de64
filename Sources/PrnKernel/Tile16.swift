/// Sixteen rows of sixteen floats in registers, transposed by four rounds of even/odd
/// interleaving: each round rotates the eight bits (row, column) of an element's index right by
/// one, so four rounds swap row and column. `Tensor.transposed` moves blocks with it, and the
/// sampled product (`Sparse+Sampled.swift`) turns sixteen rows over t into sixteen lanes per t.
struct Tile16 {
    var r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15: SIMD16<Float>

    /// Row k is the sixteen floats at `rows[k] + t`.
    @inline(__always)
    init(rows: UnsafePointer<UnsafePointer<Float>>, at t: Int) {
        @inline(__always) func load(_ k: Int) -> SIMD16<Float> { UnsafeRawPointer(rows[k] + t).loadUnaligned(as: SIMD16<Float>.self) }
        (r0, r1, r2, r3, r4, r5, r6, r7) = (load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7))
        (r8, r9, r10, r11, r12, r13, r14, r15) = (load(8), load(9), load(10), load(11), load(12), load(13), load(14), load(15))
    }

    /// Row k is the sixteen floats at `base + k · stride`.
    @inline(__always)
    init(_ base: UnsafePointer<Float>, stride: Int) {
        @inline(__always) func load(_ k: Int) -> SIMD16<Float> { UnsafeRawPointer(base + k &* stride).loadUnaligned(as: SIMD16<Float>.self) }
        (r0, r1, r2, r3, r4, r5, r6, r7) = (load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7))
        (r8, r9, r10, r11, r12, r13, r14, r15) = (load(8), load(9), load(10), load(11), load(12), load(13), load(14), load(15))
    }

    /// Stores row k at `base + k · stride`.
    @inline(__always)
    func store(_ base: UnsafeMutablePointer<Float>, stride: Int) {
        @inline(__always) func put(_ k: Int, _ row: SIMD16<Float>) {
            UnsafeMutableRawPointer(base + k &* stride).storeBytes(of: row, as: SIMD16<Float>.self)
        }
        put(0, r0); put(1, r1); put(2, r2); put(3, r3); put(4, r4); put(5, r5); put(6, r6); put(7, r7)
        put(8, r8); put(9, r9); put(10, r10); put(11, r11); put(12, r12); put(13, r13); put(14, r14); put(15, r15)
    }

    @inline(__always)
    mutating func transpose() {
        round()
        round()
        round()
        round()
    }

    @inline(__always)
    private mutating func round() {
        @inline(__always) func even(_ u: SIMD16<Float>, _ v: SIMD16<Float>) -> SIMD16<Float> {
            SIMD16(lowHalf: u.evenHalf, highHalf: v.evenHalf)
        }
        @inline(__always) func odd(_ u: SIMD16<Float>, _ v: SIMD16<Float>) -> SIMD16<Float> {
            SIMD16(lowHalf: u.oddHalf, highHalf: v.oddHalf)
        }
        (r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15) =
            (even(r0, r1), even(r2, r3), even(r4, r5), even(r6, r7), even(r8, r9), even(r10, r11), even(r12, r13), even(r14, r15),
             odd(r0, r1), odd(r2, r3), odd(r4, r5), odd(r6, r7), odd(r8, r9), odd(r10, r11), odd(r12, r13), odd(r14, r15))
    }

    /// `acc += a[j] · row j` for j in order: a chain step per lane with a shared factor.
    @inline(__always)
    func accumulate(broadcasting a: UnsafePointer<Float>, into acc: inout SIMD16<Float>) {
        @inline(__always) func step(_ j: Int, _ row: SIMD16<Float>) { acc.addProduct(SIMD16(repeating: a[j]), row) }
        step(0, r0); step(1, r1); step(2, r2); step(3, r3); step(4, r4); step(5, r5); step(6, r6); step(7, r7)
        step(8, r8); step(9, r9); step(10, r10); step(11, r11); step(12, r12); step(13, r13); step(14, r14); step(15, r15)
    }

    /// `acc += other.row j · row j` for j in order.
    @inline(__always)
    func accumulate(times other: Tile16, into acc: inout SIMD16<Float>) {
        acc.addProduct(other.r0, r0); acc.addProduct(other.r1, r1); acc.addProduct(other.r2, r2); acc.addProduct(other.r3, r3)
        acc.addProduct(other.r4, r4); acc.addProduct(other.r5, r5); acc.addProduct(other.r6, r6); acc.addProduct(other.r7, r7)
        acc.addProduct(other.r8, r8); acc.addProduct(other.r9, r9); acc.addProduct(other.r10, r10); acc.addProduct(other.r11, r11)
        acc.addProduct(other.r12, r12); acc.addProduct(other.r13, r13); acc.addProduct(other.r14, r14); acc.addProduct(other.r15, r15)
    }
}
