import Foundation

/// Renders tensors like numpy: nested brackets, at most `edge` items per end of each axis.
enum TensorFormatter {
    static let edge = 3

    static func format(_ t: Tensor) -> String {
        if t.rank == 0 { return number(t.scalars[0]) }
        var text = ""
        write(t, axis: 0, offset: 0, indent: 0, into: &text)
        return text
    }

    static func number(_ x: Float) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == x.rounded() && Swift.abs(x) < 1e7 { return String(Int(x)) + "." }
        let a = Swift.abs(x)
        if a >= 1e-4 && a < 1e6 {
            var s = String(format: "%.4f", Double(x))
            while s.hasSuffix("0") { s.removeLast() }
            return s
        }
        return String(format: "%.4e", Double(x))
    }

    private static func write(_ t: Tensor, axis: Int, offset: Int, indent: Int, into text: inout String) {
        let n = t.shape[axis]
        let stride = Shape.count(Array(t.shape[(axis + 1)...]))
        let shown: [Int?] = n > 2 * edge ? Array(0..<edge) + [nil] + Array((n - edge)..<n) : Array(0..<n)
        text += "["
        if axis == t.rank - 1 {
            text += shown.map { $0.map { number(t.scalars[offset + $0]) } ?? "…" }.joined(separator: ", ")
        } else {
            for (position, index) in shown.enumerated() {
                if position > 0 { text += ",\n" + String(repeating: " ", count: indent + 1) }
                if let index {
                    write(t, axis: axis + 1, offset: offset + index * stride, indent: indent + 1, into: &text)
                } else {
                    text += "…"
                }
            }
        }
        text += "]"
    }
}
