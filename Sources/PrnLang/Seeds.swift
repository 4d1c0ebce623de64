/// Seeds derived from the global seed, a source position and loop indices.
///
/// The derivation is a chain of SplitMix64 finalizers, so nearby positions give unrelated seeds
/// and the same script, global seed and iteration always give the same one, whichever shard of a
/// grid runs it.
enum Seeds {
    /// `callSites` are the positions of the `run "x.prn"` statements that led to the script, so
    /// a script run twice draws different numbers each time (none for a top-level statement).
    static func derive(global: UInt64, line: Int, column: Int, loopIndices: [Int], callSites: [SourceLocation] = []) -> UInt64 {
        var h = mix(0x7072_6E5F_7365_6564, global)   // "prn_seed"
        for site in callSites {
            h = mix(h, UInt64(truncatingIfNeeded: site.line))
            h = mix(h, UInt64(truncatingIfNeeded: site.column))
        }
        h = mix(h, UInt64(truncatingIfNeeded: line))
        h = mix(h, UInt64(truncatingIfNeeded: column))
        for index in loopIndices { h = mix(h, UInt64(truncatingIfNeeded: index)) }
        return h
    }

    static func mix(_ h: UInt64, _ value: UInt64) -> UInt64 {
        var z = h ^ (value &+ 0x9E37_79B9_7F4A_7C15 &+ (h << 6) &+ (h >> 2))
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
