import XCTest
import PrnKernel
import PrnAutograd

/// Central finite differences in Float64 around Float32 values: the independent reference that
/// every gradient in prn is checked against.
public enum GradCheck {
    /// d f / d x by central differences, evaluating `f` (a scalar function) in Float32 with
    /// Float64 bookkeeping. `h` is large enough that Float32 rounding stays below the tolerance.
    public static func numericGradient(of f: (Tensor) -> Float, at x: Tensor, h: Double = 1e-2) -> [Double] {
        var grad = [Double](repeating: 0, count: x.count)
        for i in 0..<x.count {
            var plus = x, minus = x
            plus.scalars[i] = Float(Double(x.scalars[i]) + h)
            minus.scalars[i] = Float(Double(x.scalars[i]) - h)
            // Use the actually representable step so rounding of x ± h does not bias the slope.
            let step = Double(plus.scalars[i]) - Double(minus.scalars[i])
            grad[i] = (Double(f(plus)) - Double(f(minus))) / step
        }
        return grad
    }

    /// Checks the gradient of a scalar function of several inputs against finite differences.
    /// `f` receives leaf variables (requiring gradients, so `f` may itself take gradients, as
    /// second-order checks do) and returns a scalar variable.
    public static func check(_ inputs: [Tensor], rtol: Double = 2e-2, atol: Double = 2e-3, h: Double = 1e-2,
                      file: StaticString = #filePath, line: UInt = #line,
                      _ f: ([Variable]) -> Variable) {
        let leaves = inputs.map { Variable($0, requiresGrad: true) }
        let output = f(leaves)
        XCTAssertEqual(output.value.count, 1, "gradcheck needs a scalar output", file: file, line: line)
        let analytic = grad(of: output, wrt: leaves)
        for (k, input) in inputs.enumerated() {
            let numeric = numericGradient(of: { x in
                var args = inputs.map { Variable($0, requiresGrad: true) }
                args[k] = Variable(x, requiresGrad: true)
                return f(args).value.item
            }, at: input, h: h)
            assertClose(analytic[k].value.scalars.map(Double.init), numeric, rtol: rtol, atol: atol,
                        "input \(k)", file: file, line: line)
        }
    }
}

/// Asserts |a - b| <= atol + rtol * |b| elementwise, reporting the worst element.
public func assertClose(_ a: [Double], _ b: [Double], rtol: Double = 1e-5, atol: Double = 1e-6, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "length \(message)", file: file, line: line)
    var worst = 0.0, worstIndex = -1
    for i in 0..<min(a.count, b.count) {
        let excess = Swift.abs(a[i] - b[i]) - (atol + rtol * Swift.abs(b[i]))
        if excess > worst || (excess.isNaN && worstIndex < 0) { worst = excess.isNaN ? .infinity : excess; worstIndex = i }
    }
    if worstIndex >= 0 {
        XCTFail("\(message): element \(worstIndex): \(a[worstIndex]) vs \(b[worstIndex])", file: file, line: line)
    }
}

public func assertClose(_ a: Tensor, _ b: Tensor, rtol: Double = 1e-5, atol: Double = 1e-6, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, "shape \(message)", file: file, line: line)
    assertClose(a.scalars.map(Double.init), b.scalars.map(Double.init), rtol: rtol, atol: atol, message, file: file, line: line)
}
