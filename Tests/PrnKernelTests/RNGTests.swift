import XCTest
import Foundation
@testable import PrnKernel

final class RNGTests: XCTestCase {
    /// Known-answer vectors of Philox 4x32-10 from the Random123 distribution (kat_vectors).
    func testPhiloxKnownAnswers() {
        func block(_ seed: UInt64, _ stream: UInt64, _ n: UInt64) -> [UInt32] {
            let (a, b, c, d) = RNG(seed: seed, stream: stream).philox(block: n)
            return [a, b, c, d]
        }
        XCTAssertEqual(block(0, 0, 0), [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])
        XCTAssertEqual(block(.max, .max, .max), [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd])
        XCTAssertEqual(block(0x299f_31d0_a409_3822, 0x0370_7344_1319_8a2e, 0x85a3_08d3_243f_6a88),
                       [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1])
    }

    func withThreads<T>(_ n: Int, _ body: () -> T) -> T {
        let saved = Parallel.threads
        Parallel.threads = n
        defer { Parallel.threads = saved }
        return body()
    }

    func testSameNumbersOnAnyThreadCount() {
        for n in [1, 2] {
            let one = withThreads(1) { (Tensor.rand([100_003], seed: 5), Tensor.randn([70_001], seed: 6)) }
            let many = withThreads(n + 1) { (Tensor.rand([100_003], seed: 5), Tensor.randn([70_001], seed: 6)) }
            XCTAssertEqual(one.0, many.0)
            XCTAssertEqual(one.1, many.1)
        }
    }

    func testWordsAreTheSameWhateverTheRequestPattern() {
        let rng = RNG(seed: 42)
        var all = [UInt32](repeating: 0, count: 37)
        all.withUnsafeMutableBufferPointer { rng.words(from: 3, count: 37, into: $0.baseAddress!) }
        var pieces = [UInt32](repeating: 0, count: 37)
        pieces.withUnsafeMutableBufferPointer { p in
            rng.words(from: 3, count: 6, into: p.baseAddress!)
            rng.words(from: 9, count: 31, into: p.baseAddress! + 6)
        }
        XCTAssertEqual(all, pieces)
    }

    func testSuccessiveDrawsDiffer() {
        var rng = RNG(seed: 1)
        XCTAssertNotEqual(rng.uniform(count: 8), rng.uniform(count: 8))
        XCTAssertNotEqual(Tensor.rand([8], seed: 1), Tensor.rand([8], seed: 2))
        XCTAssertNotEqual(RNG(seed: 1).split(0).philox(block: 0).0, RNG(seed: 1).split(1).philox(block: 0).0)
    }

    /// Moments of 10^6 draws against their closed forms; tolerances are several standard errors.
    func testMoments() {
        let n = 1_000_000
        let u = Tensor.rand([n], seed: 7).scalars.map(Double.init)
        let uMean = u.reduce(0, +) / Double(n)
        let uVar = u.map { ($0 - uMean) * ($0 - uMean) }.reduce(0, +) / Double(n)
        XCTAssertEqual(uMean, 0.5, accuracy: 5 * (1.0 / 12).squareRoot() / Double(n).squareRoot())
        XCTAssertEqual(uVar, 1.0 / 12, accuracy: 1e-3)
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })

        let z = Tensor.randn([n], seed: 8).scalars.map(Double.init)
        let zMean = z.reduce(0, +) / Double(n)
        let zVar = z.map { ($0 - zMean) * ($0 - zMean) }.reduce(0, +) / Double(n)
        let zKurt = z.map { pow($0 - zMean, 4) }.reduce(0, +) / Double(n) / (zVar * zVar)
        XCTAssertEqual(zMean, 0, accuracy: 5e-3)
        XCTAssertEqual(zVar, 1, accuracy: 5e-3)
        XCTAssertEqual(zKurt, 3, accuracy: 0.05)
        // Tail: P(|z| > 2) = 0.0455 for a standard normal.
        let tail = Double(z.filter { Swift.abs($0) > 2 }.count) / Double(n)
        XCTAssertEqual(tail, 0.0455, accuracy: 2e-3)
    }

    func testPermutationIsUniformPermutation() {
        var rng = RNG(seed: 9)
        let p = rng.permutation(1000)
        XCTAssertEqual(p.sorted(), Array(0..<1000))
        XCTAssertNotEqual(p, Array(0..<1000))
        // Position of element 0 over many 4-permutations: each of 4 slots ≈ 1/4.
        var counts = [0, 0, 0, 0]
        for _ in 0..<40_000 { counts[rng.permutation(4).firstIndex(of: 0)!] += 1 }
        for c in counts { XCTAssertEqual(Double(c) / 40_000, 0.25, accuracy: 0.01) }
    }

    func testBernoulliRate() {
        var rng = RNG(seed: 10)
        let b = rng.bernoulli(0.3, count: 200_000)
        XCTAssertTrue(b.allSatisfy { $0 == 0 || $0 == 1 })
        XCTAssertEqual(Double(b.reduce(0, +)) / 200_000, 0.3, accuracy: 5e-3)
    }
}
