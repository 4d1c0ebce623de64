import PrnKernel

/// The model zoo, by the names users type. Layer names follow the papers' reference code, so
/// checkpoints line up with PyTorch state dicts.
public enum Zoo {
    /// Names `model` accepts.
    public static let names = ["mlp", "lenet300"]

    /// The layer tree of an architecture.
    public static func build(_ a: Architecture) throws -> Layer {
        let features = a.inputShape.reduce(1, *)
        switch a.name {
        case "mlp":
            guard !a.hidden.isEmpty else { throw ShapeError("mlp needs widths=[…]") }
            return mlp(features, a.hidden.map { scaled($0, a.width) }, a.classes)
        case "lenet300":
            return mlp(features, [scaled(300, a.width), scaled(100, a.width)], a.classes)
        default:
            throw ShapeError("unknown model '\(a.name)'")
        }
    }

    /// A width times a multiplier, at least 1.
    static func scaled(_ n: Int, _ width: Double) -> Int { Swift.max(1, Int((Double(n) * width).rounded())) }

    /// Flatten, then `fc1 … fcN` with ReLU between.
    static func mlp(_ inputs: Int, _ hidden: [Int], _ classes: Int) -> Layer {
        var layers: [(String, Layer)] = [("flatten", Flatten())]
        let sizes = [inputs] + hidden + [classes]
        for i in 0..<(sizes.count - 1) {
            layers.append(("fc\(i + 1)", Linear(sizes[i], sizes[i + 1])))
            if i < sizes.count - 2 { layers.append(("relu\(i + 1)", ReLU())) }
        }
        return Sequential(layers)
    }
}
