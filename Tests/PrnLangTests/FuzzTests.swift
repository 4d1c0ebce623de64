import XCTest
import Dispatch
import PrnKernel
@testable import PrnLang

/// 10,000 random and mutated inputs through the lexer, parser and interpreter (sandboxed by
/// `FuzzHarness`): none may crash, and each must finish quickly. Seeded, so a failure repeats;
/// the failing input is printed. For longer runs, build the libFuzzer target (grammar.md, "Fuzzing").
final class FuzzTests: XCTestCase {
    /// Pieces of the language to insert: keywords, punctuation, commands, literals, edge cases.
    static let vocabulary: [String] = [
        "for", "in", "if", "else", "range", "print", "and", "or", "not", "true", "false", "none",
        "{", "}", "(", ")", "[", "]", ",", ".", "=", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "@", ";", "\n",
        "\"", "\\(", "\"\\(x)\"", "#", "tensor", "zeros", "randn", "rand", "arange", "table", "row", "show", "column", "help",
        "vars", "del", "set", "seed", "threads", "run", "t", "x", "i", "pivot=", "mean=", "value=", "seed=",
        "0", "1", "-1", "2.5", "1e308", "1e-308", "9223372036854775807", "[1, 2]", "[[1, 2], [3, 4]]", "range(3)",
        "range(100000000)", "for i in range(1000000000) {", "\"\\(\"\\(\"", "x = [x, x]", "s = s + s", "t = table\n",
        "row t a=1 b=\"x\"\n", "show t pivot=a\n", "show t mean=a\n", "\u{0}", "é", "\u{1F600}", "\t", "\r",
    ]

    func testRandomAndMutatedInputs() throws {
        var random = RNG(seed: 0x5EED_0F_F022)
        let corpus = try goldenScripts()
        XCTAssertFalse(corpus.isEmpty)
        let count = Int(ProcessInfo.processInfo.environment["PRN_FUZZ_COUNT"] ?? "") ?? 10_000
        var slowest: (seconds: Double, input: String) = (0, "")
        var outcomes: [Interpreter.Outcome: Int] = [:]
        let started = DispatchTime.now()
        for n in 0..<count {
            let input = Self.mutate(corpus, n: n, random: &random)
            let start = DispatchTime.now()
            outcomes[FuzzHarness.run(input), default: 0] += 1
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            if seconds > slowest.seconds { slowest = (seconds, input) }
            XCTAssertLessThan(seconds, 2, "input \(n) took \(seconds) s:\n\(input)")
        }
        Interrupt.clear()
        let total = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        print("fuzz: \(count) inputs in \(String(format: "%.1f", total)) s (\(outcomes[.ok] ?? 0) ran to the end); "
              + "slowest \(String(format: "%.3f", slowest.seconds)) s")
    }

    /// One input: a golden script mutated a few times, a splice of two, or pure random tokens.
    static func mutate(_ corpus: [String], n: Int, random: inout RNG) -> String {
        if n % 10 == 9 {
            return (0..<random.below(40)).map { _ in random.pick(vocabulary) }.joined(separator: random.pick([" ", "", "\n"]))
        }
        var bytes = Array(random.pick(corpus).utf8)
        if n % 10 == 8 {
            let other = Array(random.pick(corpus).utf8)
            bytes = Array(bytes.prefix(random.below(bytes.count + 1))) + Array(other.suffix(random.below(other.count + 1)))
        }
        for _ in 0..<(1 + random.below(2)) {
            switch random.below(5) {
            case 0 where !bytes.isEmpty:   // flip a byte
                bytes[random.below(bytes.count)] = UInt8(random.below(256))
            case 1:   // insert a token
                bytes.insert(contentsOf: Array((" " + random.pick(vocabulary) + " ").utf8), at: random.below(bytes.count + 1))
            case 2 where !bytes.isEmpty:   // delete a span
                let start = random.below(bytes.count)
                bytes.removeSubrange(start..<min(bytes.count, start + 1 + random.below(12)))
            case 3 where !bytes.isEmpty:   // duplicate a span
                let start = random.below(bytes.count)
                let span = Array(bytes[start..<min(bytes.count, start + 1 + random.below(40))])
                bytes.insert(contentsOf: span, at: random.below(bytes.count + 1))
            default:   // replace a printable byte with a syntax character
                if !bytes.isEmpty { bytes[random.below(bytes.count)] = random.pick(Array("{}()[]\"\\=.,;#\n".utf8)) }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func goldenScripts() throws -> [String] {
        let root = ScriptTests.scripts
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        return try enumerator.compactMap { $0 as? URL }.filter { $0.pathExtension == "prn" }
            .sorted { $0.path < $1.path }
            .map { try String(contentsOf: $0, encoding: .utf8) }
    }
}

/// Mutation picks, drawn from the kernel's seeded generator.
extension RNG {
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : int(below: n) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}
