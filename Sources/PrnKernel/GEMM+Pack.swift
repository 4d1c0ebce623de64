// Packing: copies slivers of op(A) (12 or 6 rows each) or op(B) (32 or 16 columns each, see
// `Tiling`) for one block of k into the order the micro-kernel reads them — step p of k first,
// then the sliver's rows or columns: `sliver[p · width + r]`. A last, partial sliver is padded
// with zeros to the width of a tile shape the kernels have (`Tiling.paddedRows`, `paddedColumns`).
//
// Transposition happens here and nowhere else. The source of a run of slivers is either
//  - contiguous: the values for one p are adjacent across the slivers (B as stored, or Aᵀ), so
//    the packer reads source rows in order and deals them out to the slivers; or
//  - strided: each sliver row is adjacent along p (A as stored, or Bᵀ), so the packer
//    transposes 8 × 8 blocks in registers (6 × 8 for 6-row slivers), the last few steps of a
//    chunk and the rows past them in 4 × 4 and 2 × 4 blocks.

extension GEMM {
    /// Packs the `count` rows (A) or columns (B) starting at `src` for `kc` steps, as consecutive
    /// slivers of `tile` that start `sliverStride` floats apart, times `scale`; a last, partial
    /// sliver of `rest` is padded to `lastTile(rest)`. Element (p, r) is `src[p·ld + r]` when
    /// `contiguous`, else `src[r·ld + p]`.
    static func packSlivers(
        _ src: UnsafePointer<Float>, ld: Int, contiguous: Bool, kc: Int, count: Int, tile: Int,
        lastTile: (Int) -> Int, scale: Float, into dst: UnsafeMutablePointer<Float>, sliverStride: Int
    ) {
        let full = count / tile, rest = count - full * tile
        if contiguous {
            switch tile {   // a literal width lets the copy compile to a few full-width moves
            case 6: dealRows(src, ld: ld, kc: kc, slivers: full, width: 6, scale: scale, into: dst, sliverStride: sliverStride)
            case 12: dealRows(src, ld: ld, kc: kc, slivers: full, width: 12, scale: scale, into: dst, sliverStride: sliverStride)
            case 16: dealRows(src, ld: ld, kc: kc, slivers: full, width: 16, scale: scale, into: dst, sliverStride: sliverStride)
            default: dealRows(src, ld: ld, kc: kc, slivers: full, width: 32, scale: scale, into: dst, sliverStride: sliverStride)
            }
        } else {
            for s in 0..<full {
                transpose(src + s &* tile &* ld, ld: ld, kc: kc, count: tile, width: tile, scale: scale,
                          into: dst + s &* sliverStride)
            }
        }
        guard rest > 0 else { return }
        let last = src + full &* tile &* (contiguous ? 1 : ld), lastDst = dst + full &* sliverStride
        let width = lastTile(rest)
        if contiguous {
            for p in 0..<kc {
                let s = last + p &* ld, d = lastDst + p &* width
                for r in 0..<width { d[r] = r < rest ? s[r] * scale : 0 }
            }
        } else {
            transpose(last, ld: ld, kc: kc, count: rest, width: width, scale: scale, into: lastDst)
        }
    }

    /// Contiguous source: deals `slivers · width` adjacent values per p out to the slivers.
    /// It goes 8 source rows at a time across all slivers: one sliver at a time would touch a
    /// new row (often a new page) every 48 or 128 bytes, and one row at a time would write to
    /// every sliver at once — slivers lie a multiple of 4 KB apart, so those writes fight over
    /// one set of the 8-way L1. Eight rows measured fastest (3× faster than either).
    @inline(__always)
    private static func dealRows(
        _ src: UnsafePointer<Float>, ld: Int, kc: Int, slivers: Int, width: Int, scale: Float,
        into dst: UnsafeMutablePointer<Float>, sliverStride: Int
    ) {
        let s4 = SIMD4<Float>(repeating: scale), s8 = SIMD8<Float>(repeating: scale), chunk = 8
        for p0 in stride(from: 0, to: kc, by: chunk) {
            let p1 = min(p0 + chunk, kc)
            for s in 0..<slivers {
                var from = UnsafeRawPointer(src + p0 &* ld + s &* width)
                var d = UnsafeMutableRawPointer(dst + s &* sliverStride + p0 &* width)
                for _ in p0..<p1 {
                    var q = 0
                    while q &+ 32 <= 4 &* width {
                        d.storeBytes(of: from.loadUnaligned(fromByteOffset: q, as: SIMD8<Float>.self) * s8,
                                     toByteOffset: q, as: SIMD8<Float>.self)
                        q &+= 32
                    }
                    while q &+ 16 <= 4 &* width {
                        d.storeBytes(of: from.loadUnaligned(fromByteOffset: q, as: SIMD4<Float>.self) * s4,
                                     toByteOffset: q, as: SIMD4<Float>.self)
                        q &+= 16
                    }
                    if q < 4 &* width {   // width 6: the last two
                        d.storeBytes(of: from.loadUnaligned(fromByteOffset: q, as: SIMD2<Float>.self) * SIMD2(repeating: scale),
                                     toByteOffset: q, as: SIMD2<Float>.self)
                    }
                    from += 4 &* ld
                    d += 4 &* width
                }
            }
        }
    }

    /// Strided source: packs `count` rows of `src` (each adjacent along p) into one sliver of
    /// `width`, padding rows `count..<width` with zeros.
    private static func transpose(
        _ src: UnsafePointer<Float>, ld: Int, kc: Int, count: Int, width: Int, scale: Float,
        into dst: UnsafeMutablePointer<Float>
    ) {
        // Chunks of p keep the part of the sliver being written in L1 across the row groups.
        // Rows go in blocks of eight (an 8 × 8 transpose in ymm registers), a 6-row sliver as
        // one block of six, the rest in groups of four and a pair; each block's last few steps
        // (fewer than eight) in groups of four. Against 4 × 4 blocks only, on Zen 3 (AVX2), one
        // thread, 12 rounds alternating in one process under `chrt -f 10`: VGG-16's conv4 and
        // conv6 grad_a (Bᵀ, 16-row blocks) 61.0 → 66.8 and 64.7 → 67.7 GFLOP/s (11 of 12 rounds
        // each), LeNet-300's fc1 forward at batch 128 63.5 → 65.5 (9 of 12), n = 1024 even (5 of 12).
        let chunk = 128, six = count == 6 && width == 6, eights = six ? 0 : count / 8
        let fours = six ? 1 : (count - 8 &* eights) / 4, pair = six || count % 4 >= 2
        let firstFour = six ? 0 : 8 &* eights
        for p0 in stride(from: 0, to: kc, by: chunk) {
            let p1 = min(p0 + chunk, kc)
            var done = p0   // steps the 4-row groups and the pair start from
            if six {
                done = transposeBlocks(src, ld: ld, rows: 6, from: p0, to: p1, kc: kc, width: 6, scale: scale, into: dst)
            }
            for e in 0..<eights {
                let rows = src + 8 &* e &* ld, d = dst + 8 &* e
                let rest = transposeBlocks(rows, ld: ld, rows: 8, from: p0, to: p1, kc: kc, width: width, scale: scale, into: d)
                transpose4Rows(rows, ld: ld, from: rest, to: p1, width: width, scale: scale, into: d)
                transpose4Rows(rows + 4 &* ld, ld: ld, from: rest, to: p1, width: width, scale: scale, into: d + 4)
            }
            for g in 0..<fours {
                let r = firstFour &+ 4 &* g
                transpose4Rows(src + r &* ld, ld: ld, from: done, to: p1, width: width, scale: scale, into: dst + r)
            }
            if pair {
                let r = firstFour &+ 4 &* fours
                transpose2Rows(src + r &* ld, ld: ld, from: done, to: p1, width: width, scale: scale, into: dst + r)
            }
        }
        // Rows past the last full group of four (and pair), then the zero padding.
        for r in firstFour + 4 &* fours + (pair ? 2 : 0)..<width {
            let s = src + r &* ld
            var d = dst + r
            for p in 0..<kc {
                d.pointee = r < count ? s[p] * scale : 0
                d += width
            }
        }
    }

    /// `rows` source rows (8, or the 6 of a 6-row sliver), steps `p0..<p1` in blocks of eight →
    /// `rows` adjacent values per step of a sliver `width` wide; returns the first step not done.
    /// Six rows are stored as eight floats per step, the last two of which the next step
    /// overwrites, so a block of six is done only when a step of the sliver (`kc`) follows it.
    @inline(__always)
    private static func transposeBlocks(
        _ src: UnsafePointer<Float>, ld: Int, rows: Int, from p0: Int, to p1: Int, kc: Int, width: Int,
        scale: Float, into dst: UnsafeMutablePointer<Float>
    ) -> Int {
        let s8 = SIMD8<Float>(repeating: scale), end = rows == 8 ? p1 : min(p1, kc - 1)
        var p = p0
        while p &+ 8 <= end {
            var block = Tile8(src, stride: ld, rows: rows, at: p, scale: s8)
            block.transpose()
            block.store(dst + p &* width, stride: width)   // rows in order (see above)
            p &+= 8
        }
        return p
    }

    /// Four source rows, steps `p0..<p1` → four adjacent values per step of the sliver.
    @inline(__always)
    private static func transpose4Rows(
        _ src: UnsafePointer<Float>, ld: Int, from p0: Int, to p1: Int, width: Int, scale: Float,
        into dst: UnsafeMutablePointer<Float>
    ) {
        let s0 = src, s1 = src + ld, s2 = src + 2 &* ld, s3 = src + 3 &* ld
        let s4 = SIMD4<Float>(repeating: scale), step = 4 &* width
        var p = p0
        while p &+ 4 <= p1 {
            let x0 = UnsafeRawPointer(s0 + p).loadUnaligned(as: SIMD4<Float>.self) * s4
            let x1 = UnsafeRawPointer(s1 + p).loadUnaligned(as: SIMD4<Float>.self) * s4
            let x2 = UnsafeRawPointer(s2 + p).loadUnaligned(as: SIMD4<Float>.self) * s4
            let x3 = UnsafeRawPointer(s3 + p).loadUnaligned(as: SIMD4<Float>.self) * s4
            UnsafeMutableRawPointer(dst + p &* width).storeTransposed(x0, x1, x2, x3, step: step)
            p &+= 4
        }
        while p < p1 {
            let d = dst + p &* width
            d[0] = s0[p] * scale
            d[1] = s1[p] * scale
            d[2] = s2[p] * scale
            d[3] = s3[p] * scale
            p &+= 1
        }
    }

    /// Two source rows, steps `p0..<p1` → two adjacent values per step of the sliver.
    @inline(__always)
    private static func transpose2Rows(
        _ src: UnsafePointer<Float>, ld: Int, from p0: Int, to p1: Int, width: Int, scale: Float,
        into dst: UnsafeMutablePointer<Float>
    ) {
        let s0 = src, s1 = src + ld
        let s4 = SIMD4<Float>(repeating: scale), step = 4 &* width
        var p = p0
        while p &+ 4 <= p1 {
            let x0 = UnsafeRawPointer(s0 + p).loadUnaligned(as: SIMD4<Float>.self) * s4
            let x1 = UnsafeRawPointer(s1 + p).loadUnaligned(as: SIMD4<Float>.self) * s4
            let d = UnsafeMutableRawPointer(dst + p &* width)
            d.storeBytes(of: SIMD2(x0[0], x1[0]), as: SIMD2<Float>.self)
            d.storeBytes(of: SIMD2(x0[1], x1[1]), toByteOffset: step, as: SIMD2<Float>.self)
            d.storeBytes(of: SIMD2(x0[2], x1[2]), toByteOffset: 2 &* step, as: SIMD2<Float>.self)
            d.storeBytes(of: SIMD2(x0[3], x1[3]), toByteOffset: 3 &* step, as: SIMD2<Float>.self)
            p &+= 4
        }
        while p < p1 {
            let d = dst + p &* width
            d[0] = s0[p] * scale
            d[1] = s1[p] * scale
            p &+= 1
        }
    }
}

extension UnsafeMutableRawPointer {
    /// Stores the 4 × 4 block whose rows are `r0…r3` transposed: its column j (lane j of each
    /// row) as four floats at `self + j·step` bytes.
    @inline(__always)
    func storeTransposed(_ r0: SIMD4<Float>, _ r1: SIMD4<Float>, _ r2: SIMD4<Float>, _ r3: SIMD4<Float>, step: Int) {
        storeBytes(of: SIMD4(r0[0], r1[0], r2[0], r3[0]), as: SIMD4<Float>.self)
        storeBytes(of: SIMD4(r0[1], r1[1], r2[1], r3[1]), toByteOffset: step, as: SIMD4<Float>.self)
        storeBytes(of: SIMD4(r0[2], r1[2], r2[2], r3[2]), toByteOffset: 2 &* step, as: SIMD4<Float>.self)
        storeBytes(of: SIMD4(r0[3], r1[3], r2[3], r3[3]), toByteOffset: 3 &* step, as: SIMD4<Float>.self)
    }
}

extension Tile8 {
    /// Row k is the eight floats at `base + k · stride + t` times `scale`, for k < `rows` (6 or
    /// 8); with 6, rows 6 and 7 repeat row 5 (lanes a 6-row sliver overwrites).
    @inline(__always)
    init(_ base: UnsafePointer<Float>, stride: Int, rows: Int, at t: Int, scale: SIMD8<Float>) {
        @inline(__always) func load(_ k: Int) -> SIMD8<Float> {
            UnsafeRawPointer(base + k &* stride + t).loadUnaligned(as: SIMD8<Float>.self) * scale
        }
        (r0, r1, r2, r3, r4, r5) = (load(0), load(1), load(2), load(3), load(4), load(5))
        (r6, r7) = rows == 8 ? (load(6), load(7)) : (r5, r5)
    }
}
