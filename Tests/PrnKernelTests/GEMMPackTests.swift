import XCTest
@_spi(Bench) @testable import PrnKernel

/// `GEMM.packSlivers` against a naive packing, element by element, for both source layouts:
/// full and partial slivers of every tile width, depths around the 8-step transpose blocks and
/// the packer's 128-step chunks, and nothing written past the last sliver.
final class GEMMPackTests: XCTestCase {
    func testPackedSliversAreTheScaledSourceInKernelOrder() {
        let tilings: [(tile: Int, lastTile: (Int) -> Int)] = [
            (6, GEMM.Tiling.narrow.paddedRows), (16, GEMM.Tiling.narrow.paddedColumns),
            (12, GEMM.Tiling.wide.paddedRows), (32, GEMM.Tiling.wide.paddedColumns),
        ]
        for (tile, lastTile) in tilings {
            for count in [1, 2, 3, 4, 5, tile - 1, tile, tile + 1, tile + 5, 3 * tile, 3 * tile + 2] where count > 0 {
                for kc in [1, 7, 8, 9, 16, 127, 128, 129, 136, 300] {
                    for contiguous in [false, true] {
                        check(tile: tile, lastTile: lastTile, count: count, kc: kc, contiguous: contiguous)
                    }
                }
            }
        }
    }

    /// `GEMM.PackedA.packing` (the benchmarks' Winograd products) packs each of its matrices as
    /// `sgemm` packs A as stored: the same C, bit for bit, on both tilings, 1 and 2 threads,
    /// across a partial row sliver and two k-blocks.
    func testPackingGivesTheProductOfAAsStored() {
        let saved = GEMM.wideTiles
        defer { GEMM.wideTiles = saved }
        for wide in [false, true] {
            GEMM.wideTiles = wide
            for (m, n, k) in [(64, 64, 64), (29, 40, 1100)] {
                let count = 2
                let a = (0..<count * m * k).map { Float(($0 * 7919) % 1013) / 97 - 5 }
                let b = (0..<count * k * n).map { Float(($0 * 104729) % 1021) / 101 - 5 }
                let packed = a.withUnsafeBufferPointer { GEMM.PackedA.packing($0.baseAddress!, count: count, m: m, k: k) }
                for index in 0..<count {
                    for threads in [1, 2] {
                        var expected = [Float](repeating: 0, count: m * n), got = expected
                        a.withUnsafeBufferPointer { a in
                            b.withUnsafeBufferPointer { b in
                                let b = b.baseAddress! + index * k * n
                                GEMM.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a.baseAddress! + index * m * k,
                                           lda: k, b: b, ldb: n, beta: 0, c: &expected, ldc: n, threads: threads)
                                GEMM.sgemm(packedA: packed[index], transB: false, n: n, b: b, ldb: n, beta: 0, c: &got, ldc: n,
                                           threads: threads)
                            }
                        }
                        XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern),
                                       "m \(m) n \(n) k \(k), matrix \(index), \(threads) threads, wide \(wide)")
                    }
                }
            }
        }
    }

    private func check(tile: Int, lastTile: (Int) -> Int, count: Int, kc: Int, contiguous: Bool,
                       file: StaticString = #filePath, line: UInt = #line) {
        let scale: Float = -0.75
        // Element (p, r) is src[p·ld + r] (contiguous) or src[r·ld + p]; ld has slack.
        let ld = (contiguous ? count : kc) + 3
        let src = (0..<(contiguous ? kc : count) * ld).map { Float($0 % 1009) * 0.5 + 1 }
        func source(_ p: Int, _ r: Int) -> Float { contiguous ? src[p * ld + r] : src[r * ld + p] }
        let full = count / tile, rest = count % tile
        let stride = tile * kc
        let used = full * stride + (rest > 0 ? lastTile(rest) * kc : 0)
        let sentinel = Float.greatestFiniteMagnitude
        var dst = [Float](repeating: sentinel, count: used + 64)
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                GEMM.packSlivers(s.baseAddress!, ld: ld, contiguous: contiguous, kc: kc, count: count, tile: tile,
                                 lastTile: lastTile, scale: scale, into: d.baseAddress!, sliverStride: stride)
            }
        }
        var expected = [Float](repeating: sentinel, count: used + 64)
        for s in 0..<(full + (rest > 0 ? 1 : 0)) {
            let width = s < full ? tile : lastTile(rest)
            for p in 0..<kc {
                for r in 0..<width {
                    let row = s * tile + r
                    expected[s * stride + p * width + r] = row < count ? source(p, row) * scale : 0
                }
            }
        }
        if let i = expected.indices.first(where: { expected[$0].bitPattern != dst[$0].bitPattern }) {
            XCTFail("tile \(tile) count \(count) kc \(kc) contiguous \(contiguous): packed[\(i)] = \(dst[i]), expected \(expected[i])",
                    file: file, line: line)
        }
    }
}
