import Foundation
import XCTest
import PrnTestSupport

/// Runs scipy/numpy in `python3` as the reference for the statistics tests.
///
/// `Numpy.evaluate` (PrnTestSupport) passes float32 arrays and evaluates one expression; these
/// tests need float64 inputs, scipy, and several results per case, so they use this helper.
/// Numbers cross the pipe as their shortest round-trip decimal strings (`String(Double)` and
/// Python's `repr`), so every bit arrives and NaN/∞ survive JSON.
enum StatsPython {
    /// Runs `script` once per case with `data` bound to that case's arrays (lists of floats) and
    /// `np`, `scipy`, `stats` imported; the script sets `result` to a list of lists of numbers.
    /// Returns, per case, those lists as `[[Double]]`.
    static func run(_ script: String, cases: [[[Double]]]) throws -> [[[Double]]] {
        let payload = cases.map { arrays in arrays.map { $0.map { String($0) } } }
        let json = String(data: try JSONSerialization.data(withJSONObject: payload), encoding: .utf8)!
        let indented = script.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        let program = """
            import sys, json, warnings, numpy as np, scipy, scipy.stats as stats
            warnings.simplefilter('ignore')
            def case(data):
                result = None
            \(indented)
                return [[repr(float(x)) for x in np.atleast_1d(np.asarray(r, dtype=np.float64))] for r in result]
            cases = [[np.array([float(x) for x in a], dtype=np.float64) for a in c] for c in json.load(sys.stdin)]
            print(json.dumps([case(c) for c in cases]))
            """
        let output = try python(program, input: json)
        let decoded = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [[[String]]]
        return decoded.map { $0.map { $0.map { Double($0)! } } }
    }

    private static func python(_ program: String, input: String) throws -> String {
        try Python.run(program, input: input, needs: ["numpy", "scipy"])
    }
}

/// Tracks the worst relative error of a test's comparisons, and fails beyond the tolerance.
final class Agreement {
    let rtol: Double
    let atol: Double
    private(set) var worst = 0.0
    private(set) var worstLabel = ""
    private(set) var checks = 0

    init(rtol: Double = 1e-6, atol: Double = 0) {
        self.rtol = rtol
        self.atol = atol
    }

    /// `ours ≈ reference` within `atol + rtol·|reference|`; NaN must meet NaN, ∞ the same ∞.
    func check(_ ours: Double, _ reference: Double, _ label: @autoclosure () -> String, atol: Double? = nil,
               file: StaticString = #filePath, line: UInt = #line) {
        checks += 1
        if reference.isNaN || ours.isNaN || reference.isInfinite || ours.isInfinite {
            let same = (reference.isNaN && ours.isNaN) || reference == ours
            if !same { XCTFail("\(label()): \(ours) vs scipy \(reference)", file: file, line: line) }
            return
        }
        let difference = abs(ours - reference)
        // The worst relative error is tracked where it means something: not among denormal tails.
        if abs(reference) > 1e-280 {
            let relative = difference / abs(reference)
            if relative > worst { worst = relative; worstLabel = label() }
        }
        if !(difference <= (atol ?? self.atol) + rtol * abs(reference)) {
            XCTFail("\(label()): \(ours) vs scipy \(reference) (relative error \(difference / abs(reference)))",
                    file: file, line: line)
        }
    }

    func report(_ name: String) {
        print("[stats] \(name): \(checks) checks, worst relative error \(worst) at \(worstLabel)")
    }
}

/// A small seeded generator (SplitMix64) for test samples, independent of the kernel's RNG.
struct SampleGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform on (0, 1).
    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / 9007199254740992.0 }

    /// Standard normal by Box–Muller.
    mutating func normal() -> Double {
        (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
    }

    mutating func normals(_ n: Int, mean: Double = 0, std: Double = 1) -> [Double] {
        (0..<n).map { _ in mean + std * normal() }
    }
}
