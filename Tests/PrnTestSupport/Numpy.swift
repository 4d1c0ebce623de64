import Foundation
import XCTest
import PrnKernel

/// Runs a numpy expression in `python3` as an independent reference.
///
/// Inputs arrive as named float32 arrays; `expression` is Python evaluated with `np` and those
/// names in scope; the result comes back as float64 values with its shape.
public enum Numpy {
    /// Evaluates each expression with its own named arrays, all in one `python3` process.
    public static func evaluate(_ requests: [(expression: String, arrays: [String: Tensor])]) throws -> [(shape: [Int], values: [Double])] {
        let payload: [[String: Any]] = requests.map { request in
            var arrays: [String: Any] = [:]
            for (name, t) in request.arrays { arrays[name] = ["shape": t.shape, "values": t.scalars.map(Double.init)] }
            return ["expression": request.expression, "arrays": arrays]
        }
        let json = String(data: try JSONSerialization.data(withJSONObject: payload), encoding: .utf8)!
        let script = [
            "import sys, json, numpy as np",
            "out = []",
            "for req in json.load(sys.stdin):",
            "    env = {k: np.array(v['values'], dtype=np.float32).reshape(v['shape']) for k, v in req['arrays'].items()}",
            "    env['np'] = np",
            "    r = np.asarray(eval(req['expression'], env), dtype=np.float64)",
            "    out.append({'shape': list(r.shape), 'values': r.ravel().tolist()})",
            "print(json.dumps(out))",
        ]
        let text = try run(script, input: json)
        let objects = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [[String: Any]]
        return objects.map { object in
            ((object["shape"] as! [NSNumber]).map(\.intValue), (object["values"] as! [NSNumber]).map(\.doubleValue))
        }
    }

    public static func evaluate(_ expression: String, _ arrays: [String: Tensor]) throws -> (shape: [Int], values: [Double]) {
        try evaluate([(expression, arrays)])[0]
    }

    private static func run(_ lines: [String], input: String, arguments: [String] = []) throws -> String {
        try Python.run(lines.joined(separator: "\n"), input: input, arguments: arguments, needs: ["numpy"])
    }
}

/// Collects tensors with the numpy expressions they should equal, then checks them all with one
/// `python3` run (starting numpy costs more than most checks).
public final class NumpyChecks {
    public init() {}

    private var items: [(tensor: Tensor, expression: String, arrays: [String: Tensor], rtol: Double, atol: Double,
                         file: StaticString, line: UInt)] = []

    public func expect(_ t: Tensor, _ expression: String, _ arrays: [String: Tensor], rtol: Double = 1e-5, atol: Double = 1e-6,
                file: StaticString = #filePath, line: UInt = #line) {
        items.append((t, expression, arrays, rtol, atol, file, line))
    }

    public func verify() throws {
        guard !items.isEmpty else { return }
        let references = try Numpy.evaluate(items.map { ($0.expression, $0.arrays) })
        for (item, reference) in zip(items, references) {
            XCTAssertEqual(item.tensor.shape, reference.shape, "shape of \(item.expression)", file: item.file, line: item.line)
            guard item.tensor.count == reference.values.count else { continue }
            for (i, (x, y)) in zip(item.tensor.scalars, reference.values).enumerated()
            where !(Swift.abs(Double(x) - y) <= item.atol + item.rtol * Swift.abs(y)) {
                XCTFail("\(item.expression)[\(i)]: \(x) vs numpy \(y)", file: item.file, line: item.line)
                break
            }
        }
        items = []
    }
}
