import Foundation

/// A counter-based random number generator (Philox 4x32-10, Salmon et al. 2011).
///
/// The n-th number of a stream depends only on the seed, the stream and n, so the same seed gives
/// the same numbers whatever the thread count or the order in which blocks are filled. Every
/// random command derives one `RNG` from its seed; independent draws use distinct `stream`s.
public struct RNG: Sendable {
    public let seed: UInt64
    public let stream: UInt64
    /// Next block index: each block yields four 32-bit words.
    private var block: UInt64 = 0

    public init(seed: UInt64, stream: UInt64 = 0) {
        self.seed = seed
        self.stream = stream
    }

    /// A generator for an independent sub-stream, e.g. per layer or per loop iteration.
    public func split(_ index: UInt64) -> RNG {
        RNG(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* (index &+ 1), stream: stream ^ (index &* 0xD1B5_4A32_D192_ED03))
    }

    /// The four words of block `n` of this stream.
    @inlinable
    public func philox(block n: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        var c0 = UInt32(truncatingIfNeeded: n), c1 = UInt32(truncatingIfNeeded: n >> 32)
        var c2 = UInt32(truncatingIfNeeded: stream), c3 = UInt32(truncatingIfNeeded: stream >> 32)
        var k0 = UInt32(truncatingIfNeeded: seed), k1 = UInt32(truncatingIfNeeded: seed >> 32)
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
            let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
            k0 &+= 0x9E37_79B9
            k1 &+= 0xBB67_AE85
        }
        return (c0, c1, c2, c3)
    }

    /// 32-bit words [start, start + count) of this stream, independent of how they are requested.
    public func words(from start: Int, count: Int, into out: UnsafeMutablePointer<UInt32>) {
        var i = 0
        while i < count {
            let index = start + i
            var block = philox(block: UInt64(index / 4))
            withUnsafeBytes(of: &block) { raw in
                let lanes = raw.bindMemory(to: UInt32.self)
                var lane = index % 4
                while lane < 4 && i < count {
                    out[i] = lanes[lane]
                    lane += 1
                    i += 1
                }
            }
        }
    }

    /// Uniform floats in [0, 1): the top 24 bits of each word.
    public mutating func uniform(count: Int) -> [Float] {
        let start = take(count)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            Parallel.forEach(count, grain: 1 << 14) { range in
                RNG.fillUniform(self, start: start, range: range, into: buffer.baseAddress!)
            }
            initialized = count
        }
    }

    /// Standard normal floats (Box–Muller on pairs of words, computed in Double).
    public mutating func normal(count: Int) -> [Float] {
        let pairs = (count + 1) / 2
        let start = take(pairs * 2)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            Parallel.forEach(pairs, grain: 1 << 13) { range in
                var words = [UInt32](repeating: 0, count: range.count * 2)
                words.withUnsafeMutableBufferPointer { self.words(from: start + range.lowerBound * 2, count: range.count * 2, into: $0.baseAddress!) }
                for (j, pair) in range.enumerated() {
                    let u1 = (Double(words[2 * j] >> 8) + 1) / 16_777_217.0   // (0, 1]
                    let u2 = Double(words[2 * j + 1] >> 8) / 16_777_216.0     // [0, 1)
                    let r = (-2 * _log(u1)).squareRoot()
                    let theta = 2 * Double.pi * u2
                    buffer[2 * pair] = Float(r * _cos(theta))
                    if 2 * pair + 1 < count { buffer[2 * pair + 1] = Float(r * _sin(theta)) }
                }
            }
            initialized = count
        }
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates, sequential).
    public mutating func permutation(_ n: Int) -> [Int] {
        var result = Array(0..<n)
        guard n > 1 else { return result }
        let start = take(2 * n)
        var words = [UInt32](repeating: 0, count: 2 * n)
        words.withUnsafeMutableBufferPointer { self.words(from: start, count: 2 * n, into: $0.baseAddress!) }
        for i in stride(from: n - 1, to: 0, by: -1) {
            // 64 random bits reduced by multiply-shift: bias below 2^-32 for any n prn can hold.
            let r = UInt64(words[2 * i]) << 32 | UInt64(words[2 * i + 1])
            let j = Int(r.multipliedFullWidth(by: UInt64(i + 1)).high)
            result.swapAt(i, j)
        }
        return result
    }

    /// 0/1 floats, each 1 with probability `p`.
    public mutating func bernoulli(_ p: Float, count: Int) -> [Float] {
        uniform(count: count).map { $0 < p ? 1 : 0 }
    }

    /// A uniform integer in 0..<n.
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0)
        let start = take(2)
        var w: (UInt32, UInt32) = (0, 0)
        withUnsafeMutableBytes(of: &w) { self.words(from: start, count: 2, into: $0.baseAddress!.assumingMemoryBound(to: UInt32.self)) }
        let r = UInt64(w.0) << 32 | UInt64(w.1)
        return Int(r.multipliedFullWidth(by: UInt64(n)).high)
    }

    /// Reserves `count` words, rounded up to whole blocks, and returns the index of the first.
    private mutating func take(_ count: Int) -> Int {
        let first = Int(block) * 4
        block += UInt64((count + 3) / 4)
        return first
    }

    private static func fillUniform(_ rng: RNG, start: Int, range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let words = UnsafeMutablePointer<UInt32>.allocate(capacity: range.count)
        defer { words.deallocate() }
        rng.words(from: start + range.lowerBound, count: range.count, into: words)
        for j in 0..<range.count {
            out[range.lowerBound + j] = Float(words[j] >> 8) * (1.0 / 16_777_216.0)
        }
    }
}

@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Foundation.sin(x) }
