import PrnKernel

/// The model zoo, by the names users type. Layer names follow PyTorch conventions, so
/// checkpoints line up with state dicts.
///
/// - `mlp widths=[…]`, `lenet300` (784-300-100-10): fully connected, ReLU.
/// - `lenet5`: conv 6 (5×5, pad 2) – pool – conv 16 (5×5) – pool – fc 120 – fc 84 – fc.
/// - `conv2`, `conv4`, `conv6` (Frankle & Carbin 2019): 3×3 convs of 64 / 64,128 / 64,128,256
///   channels in pairs, each pair followed by a 2×2 max pool; then fc 256 – fc 256 – fc.
/// - `vgg11`, `vgg16`: CIFAR VGG with batch norm, global average pool, one fc layer.
/// - `resnet20`: CIFAR ResNet (16/32/64 channels, 3 blocks per stage), global average pool, fc.
/// `width` multiplies every hidden width and channel count.
public enum Zoo: String, CaseIterable, Codable, Sendable {
    case mlp, lenet300, lenet5, conv2, conv4, conv6, vgg11, vgg16, resnet20

    /// The layer tree of an architecture of this family; throws for inputs too small for its
    /// pooling.
    public func build(_ a: Architecture) throws -> Layer {
        let features = a.inputShape.reduce(1, *)
        let w = { (n: Int) in Zoo.scaled(n, a.width) }
        switch self {
        case .mlp:
            guard !a.hidden.isEmpty else { throw ShapeError("mlp needs widths=[…]") }
            return Zoo.mlp(features, a.hidden.map(w), a.classes)
        case .lenet300:
            return Zoo.mlp(features, [w(300), w(100)], a.classes)
        case .lenet5:
            let (c, h, wd) = try Zoo.image(a, minSide: 12)
            let side = { (s: Int) in ((s / 2) - 4) / 2 }
            return Sequential([
                ("conv1", Conv2d(c, w(6), kernel: 5, padding: 2)), ("relu1", ReLU()), ("pool1", MaxPool2d()),
                ("conv2", Conv2d(w(6), w(16), kernel: 5, padding: 0)), ("relu2", ReLU()), ("pool2", MaxPool2d()),
                ("flatten", Flatten()),
                ("fc1", Linear(w(16) * side(h) * side(wd), w(120))), ("relu3", ReLU()),
                ("fc2", Linear(w(120), w(84))), ("relu4", ReLU()),
                ("fc3", Linear(w(84), a.classes)),
            ])
        case .conv2, .conv4, .conv6:
            let pairs = [Zoo.conv2: [64], .conv4: [64, 128], .conv6: [64, 128, 256]][self]!
            let (c, h, wd) = try Zoo.image(a, minSide: 1 << pairs.count)
            var layers: [(String, Layer)] = []
            var channels = c, index = 0
            for out in pairs.map(w) {
                for _ in 0..<2 {
                    index += 1
                    layers += [("conv\(index)", Conv2d(channels, out, kernel: 3, padding: 1)), ("relu\(index)", ReLU())]
                    channels = out
                }
                layers.append(("pool\(index / 2)", MaxPool2d()))
            }
            let side = { (s: Int) in pairs.reduce(s) { r, _ in r / 2 } }
            layers += [("flatten", Flatten()),
                       ("fc1", Linear(channels * side(h) * side(wd), w(256))), ("relu_fc1", ReLU()),
                       ("fc2", Linear(w(256), w(256))), ("relu_fc2", ReLU()),
                       ("fc3", Linear(w(256), a.classes))]
            return Sequential(layers)
        case .vgg11, .vgg16:
            let plan: [Int] = self == .vgg11
                ? [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512]
                : [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512]
            let (c, _, _) = try Zoo.image(a, minSide: 16)
            var layers: [(String, Layer)] = []
            var channels = c, conv = 0, pool = 0
            for entry in plan {
                if entry == 0 {
                    pool += 1
                    layers.append(("pool\(pool)", MaxPool2d()))
                } else {
                    conv += 1
                    layers += [("conv\(conv)", Conv2d(channels, w(entry), kernel: 3, padding: 1, bias: false)),
                               ("bn\(conv)", BatchNorm(w(entry))), ("relu\(conv)", ReLU())]
                    channels = w(entry)
                }
            }
            layers += [("gap", GlobalAvgPool()), ("fc", Linear(channels, a.classes))]
            return Sequential(layers)
        case .resnet20:
            let (c, _, _) = try Zoo.image(a, minSide: 4)
            var layers: [(String, Layer)] = [("conv", Conv2d(c, w(16), kernel: 3, padding: 1, bias: false)),
                                             ("bn", BatchNorm(w(16))), ("relu", ReLU())]
            var channels = w(16)
            for (stage, width) in [16, 32, 64].map(w).enumerated() {
                let blocks: [(String, Layer)] = (0..<3).map { b in
                    let block = ResidualBlock(channels, width, stride: stage > 0 && b == 0 ? 2 : 1)
                    channels = width
                    return ("\(b)", block)
                }
                layers.append(("layer\(stage + 1)", Sequential(blocks)))
            }
            layers += [("gap", GlobalAvgPool()), ("fc", Linear(channels, a.classes))]
            return Sequential(layers)
        }
    }

    /// A width times a multiplier, at least 1.
    static func scaled(_ n: Int, _ width: Double) -> Int { Swift.max(1, Int((Double(n) * width).rounded())) }

    /// The channels, height and width of an image input, checked against the pooling depth.
    static func image(_ a: Architecture, minSide: Int) throws -> (Int, Int, Int) {
        guard a.inputShape.count == 3 else {
            throw ShapeError("\(a.name) needs image inputs [C, H, W], the data has shape \(a.inputShape)")
        }
        let (c, h, w) = (a.inputShape[0], a.inputShape[1], a.inputShape[2])
        guard h >= minSide, w >= minSide else {
            throw ShapeError("\(a.name) needs images of at least \(minSide)×\(minSide), the data has \(h)×\(w)")
        }
        return (c, h, w)
    }

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
