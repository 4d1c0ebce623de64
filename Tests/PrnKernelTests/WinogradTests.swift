import XCTest
@testable import PrnKernel

/// Winograd F(2×2, 3×3) and F(4×4, 3×3) convolutions against the direct loops in Double (all
/// three products), the adjoint identities, thread-count bit-identity, and the fixed rule that
/// picks the algorithm.
final class WinogradTests: XCTestCase {
    static let algorithms: [ConvAlgorithm] = [.winograd2x2, .winograd4x4]

    /// 3×3, stride 1, padding 1: planes that are not multiples of either tile (tiles hanging over
    /// the edge), one sample, several samples per group, several groups with a short last one,
    /// 1×1 and 1×n planes, a row of more tiles than a transform's run, and rows whose tiles are
    /// gathered four and two at a time (24 and 8 columns) and singly (9).
    static let cases: [ConvTests.Case] = [
        (1, 1, 4, 4, 1, 3, 3, 1, 1),
        (2, 3, 7, 6, 4, 3, 3, 1, 1),
        (3, 5, 5, 9, 3, 3, 3, 1, 1),     // a transform's run spans samples
        (3, 2, 1, 1, 2, 3, 3, 1, 1),
        (2, 2, 1, 6, 3, 3, 3, 1, 1),
        (2, 2, 1, 300, 3, 3, 3, 1, 1),   // 150 and 75 tiles in a row, more than a run's 64
        (10, 4, 24, 24, 3, 3, 3, 1, 1),  // 144 / 36 tiles per sample: groups of 4 (last 2) / 8 (last 2)
        (3, 4, 8, 8, 5, 3, 3, 1, 1),     // F(4×4)'s two tiles a row gathered from one 8-column vector
        (300, 2, 4, 4, 3, 3, 3, 1, 1),   // 4 / 1 tiles per sample: groups of 128 / 256, the last short
        (70, 3, 2, 2, 2, 3, 3, 1, 1),    // a plane of one tile (F(2×2)) or of part of one (F(4×4)), runs of samples
        (5, 2, 3, 3, 3, 3, 3, 1, 1),     // F(4×4)'s one tile past the plane's bottom and right edges
    ]

    /// The largest error against the Double loops, relative to the reference's largest magnitude:
    /// at most 2e-6 for F(2×2) and 2e-5 for F(4×4) at these sizes (measured about 3e-7 and 3e-6;
    /// F(4×4)'s transforms multiply by up to 8 and divide by 6 and 24, so its rounding errors are
    /// about ten times F(2×2)'s). A wrong tap or tile is off by the size of a term, about 1e-1.
    static func assertClose(_ a: Tensor, _ reference: Tensor, _ algorithm: ConvAlgorithm, _ message: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, reference.shape, message, file: file, line: line)
        let scale = reference.scalars.map(abs).max() ?? 0
        let worst = zip(a.scalars, reference.scalars).map { abs($0 - $1) }.max() ?? 0
        let tolerance: Float = algorithm == .winograd4x4 ? 2e-5 : 2e-6
        XCTAssertLessThanOrEqual(worst, tolerance * scale, "\(message) (\(algorithm))", file: file, line: line)
    }

    func testAllThreeProductsMatchDirectLoops() {
        for (k, t) in Self.cases.enumerated() {
            let (x, w, gy) = ConvTests.operands(t, seed: UInt64(100 + k))
            let y = ConvTests.naiveConv(x, w, stride: 1, padding: 1)
            let (dx, dw) = ConvTests.naiveAdjoints(x, w, gy, stride: 1, padding: 1)
            for algorithm in Self.algorithms {
                Self.assertClose(x.conv2d(w, stride: 1, padding: 1, algorithm: algorithm), y, algorithm, "forward \(t)")
                Self.assertClose(Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: 1, padding: 1, algorithm: algorithm),
                                 dx, algorithm, "input gradient \(t)")
                Self.assertClose(Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1, algorithm: algorithm),
                                 dw, algorithm, "weight gradient \(t)")
            }
        }
    }

    /// The three products are adjoint to each other: ⟨conv(x, w), gy⟩ = ⟨x, A(gy, w)⟩ =
    /// ⟨w, B(x, gy)⟩, summed in Double.
    func testProductsKeepTheAdjointIdentities() {
        let x = Tensor.randn([2, 64, 8, 8], seed: 1), w = Tensor.randn([64, 64, 3, 3], std: 0.05, seed: 2)
        let gy = Tensor.randn([2, 64, 8, 8], seed: 3)
        func dot(_ a: Tensor, _ b: Tensor) -> Double { zip(a.scalars, b.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
        for algorithm in Self.algorithms {
            let y = x.conv2d(w, stride: 1, padding: 1, algorithm: algorithm)
            XCTAssertNotEqual(y.scalars, x.conv2d(w, stride: 1, padding: 1, algorithm: .direct).scalars,
                              "\(algorithm)'s bits should differ from direct's")
            let forward = dot(y, gy)
            let input = dot(x, Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: 1, padding: 1, algorithm: algorithm))
            let weight = dot(w, Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1, algorithm: algorithm))
            XCTAssertEqual(input, forward, accuracy: 1e-4 * abs(forward) + 1e-2, "\(algorithm)")
            XCTAssertEqual(weight, forward, accuracy: 1e-4 * abs(forward) + 1e-2, "\(algorithm)")
        }
    }

    /// An empty batch: no tiles, so every product is zero (and the weight gradient is not left
    /// uninitialized).
    func testEmptyBatchGivesZeros() {
        let x = Tensor.randn([0, 64, 8, 8], seed: 1), w = Tensor.randn([64, 64, 3, 3], seed: 2)
        for algorithm in Self.algorithms {
            XCTAssertEqual(x.conv2d(w, stride: 1, padding: 1, algorithm: algorithm).shape, [0, 64, 8, 8])
            let dw = Tensor.conv2dWeightGrad(x, x, weightShape: w.shape, stride: 1, padding: 1, algorithm: algorithm)
            XCTAssertEqual(dw.scalars, [Float](repeating: 0, count: w.count))
        }
    }

    /// Each tile's networks compute its matrices: Bᵀ·d, Aᵀ·v, A·g, G·g and Gᵀ·s of random
    /// vectors against the products with `WinogradTile`'s matrices in Double (a network only
    /// reorders the additions, so they agree to a few ulps; a wrong sign or coefficient is off by
    /// about 1). The vectors are read as `[element][lane]` and written as `[lane][element]`, the
    /// two layouts the transforms use.
    func testNetworksComputeTheTilesMatrices() {
        func check<N: WinogradNetwork>(_: N.Type, _ tile: WinogradTile) {
            XCTAssertEqual(N.m, tile.m)
            let a = tile.outputTransform
            let cases: [(String, SmallMatrix, Network)] = [
                ("Bᵀ", tile.inputTransform, N.input), ("Aᵀ", a, N.output), ("A", a.transposed, N.outputAdjoint),
                ("G", tile.weightTransform, N.weight), ("Gᵀ", tile.weightTransform.transposed, N.weightAdjoint),
            ]
            for (k, (name, matrix, network)) in cases.enumerated() {
                let lanes = 19, n = matrix.columns, rows = matrix.rows
                let x = Tensor.randn([n * lanes], seed: UInt64(10 * tile.m + k)).scalars
                var y = [Float](repeating: .nan, count: rows * lanes)
                x.withUnsafeBufferPointer { x in
                    y.withUnsafeMutableBufferPointer { y in network(x.baseAddress!, lanes, 1, y.baseAddress!, 1, rows, lanes) }
                }
                for l in 0..<lanes {
                    for (i, terms) in matrix.terms.enumerated() {
                        let exact = terms.reduce(0.0) { $0 + Double($1.coefficient) * Double(x[$1.column * lanes + l]) }
                        XCTAssertEqual(Double(y[l * rows + i]), exact, accuracy: 1e-5 * (1 + abs(exact)), "F(\(tile.m)) \(name) row \(i)")
                    }
                }
            }
        }
        check(WinogradNetwork2.self, .f2)
        check(WinogradNetwork4.self, .f4)
    }

    typealias Network = (UnsafePointer<Float>, Int, Int, UnsafeMutablePointer<Float>, Int, Int, Int) -> Void

    func testRuleFollowsTheShapes() {
        func uses(_ x: [Int], _ w: [Int], stride: Int = 1, padding: Int = 1) -> ConvAlgorithm {
            ConvAlgorithm.chosen(input: x, weight: w, stride: stride, padding: padding)
        }
        XCTAssertEqual(uses([2, 64, 32, 32], [64, 64, 3, 3]), .winograd4x4)     // 2048 outputs per channel
        XCTAssertEqual(uses([32, 256, 8, 8], [512, 256, 3, 3]), .winograd4x4)
        XCTAssertEqual(uses([128, 512, 4, 4], [512, 512, 3, 3]), .winograd4x4)  // 2048 outputs per channel
        XCTAssertEqual(uses([127, 512, 4, 4], [512, 512, 3, 3]), .direct)       // 2032 outputs per channel
        XCTAssertEqual(uses([1, 64, 32, 32], [64, 64, 3, 3]), .direct)          // batch 1 (SynFlow)
        XCTAssertEqual(uses([128, 32, 16, 16], [33, 32, 3, 3]), .winograd4x4)   // 32 × 33 channels
        XCTAssertEqual(uses([128, 15, 32, 32], [64, 15, 3, 3]), .direct)        // few input channels
        XCTAssertEqual(uses([128, 64, 32, 32], [15, 64, 3, 3]), .direct)        // few output channels
        XCTAssertEqual(uses([128, 3, 32, 32], [64, 3, 3, 3]), .sliding)         // a first layer: the sliding kernel
        XCTAssertEqual(uses([128, 3, 32, 32], [64, 3, 4, 4], padding: 2), .direct)  // a first layer of 4×4 taps
        XCTAssertEqual(uses([128, 64, 4, 4], [128, 64, 3, 3]), .winograd4x4)    // 4×4 planes (VGG-11 at width 0.25)
        XCTAssertEqual(uses([128, 16, 4, 4], [15, 16, 3, 3]), .direct)          // 4×4 planes, few output channels
        XCTAssertEqual(uses([128, 16, 7, 7], [16, 16, 3, 3]), .winograd4x4)     // 7×7 planes, 16 channels
        XCTAssertEqual(uses([128, 16, 4, 4], [16, 16, 3, 3]), .winograd4x4)     // 4×4 planes, 16 channels
        XCTAssertEqual(uses([128, 128, 2, 2], [128, 128, 3, 3]), .sliding)      // 2×2 planes: the sliding kernel's plane map
        XCTAssertEqual(uses([128, 256, 3, 3], [256, 256, 3, 3]), .winograd2x2)  // 3×3 planes
        XCTAssertEqual(uses([57, 512, 3, 3], [512, 512, 3, 3]), .winograd2x2)   // 513 outputs per channel
        XCTAssertEqual(uses([56, 512, 3, 3], [512, 512, 3, 3]), .direct)        // 504 outputs per channel
        XCTAssertEqual(uses([128, 64, 3, 3], [256, 64, 3, 3]), .direct)         // 3×3 planes, few input channels
        XCTAssertEqual(uses([128, 256, 3, 3], [127, 256, 3, 3]), .direct)       // 3×3 planes, few output channels
        XCTAssertEqual(uses([512, 512, 1, 8], [512, 512, 3, 3]), .direct)       // 1×n planes
        XCTAssertEqual(uses([2, 64, 32, 32], [64, 64, 3, 3], stride: 2), .direct)
        XCTAssertEqual(uses([2, 64, 32, 32], [64, 64, 3, 3], padding: 0), .direct)
        XCTAssertEqual(uses([2, 64, 32, 32], [64, 64, 5, 5], padding: 2), .direct)
        // The default is the rule's choice.
        let x = Tensor.randn([2, 64, 32, 32], seed: 1), w = Tensor.randn([64, 64, 3, 3], seed: 2)
        XCTAssertEqual(x.conv2d(w, stride: 1, padding: 1).scalars,
                       x.conv2d(w, stride: 1, padding: 1, algorithm: .winograd4x4).scalars)
    }

    /// `sliding` for all three products of layers on planes of at least 8×8 with 2048 outputs per
    /// channel, of at most 32 × 32 channels with C·O ≤ 512 (on 8×8 to 15×15 planes 32 → 64, the
    /// weight gradient only up to C·O = 512; on larger planes 64 output channels with C·O ≤ 512),
    /// but an input gradient onto fewer than 8 channels;
    /// of every layer on planes of at most 2×2 in batches of at least 32; and for the forward pass
    /// of stride-2 layers of at most 32 → 64 channels with at least 8×8 outputs, 2048 per channel
    /// (and their input gradient onto at least 8 channels of an even height and width).
    func testSlidingRuleFollowsTheShapes() {
        func uses(_ x: [Int], _ w: [Int], _ product: ConvProduct = .forward) -> ConvAlgorithm {
            ConvAlgorithm.chosen(input: x, weight: w, stride: 1, padding: 1, product: product)
        }
        for product in [ConvProduct.forward, .inputGradient, .weightGradient] {
            XCTAssertEqual(uses([128, 16, 32, 32], [16, 16, 3, 3], product), .sliding)  // ResNet-20's 16 channels
            XCTAssertEqual(uses([128, 16, 16, 16], [32, 16, 3, 3], product), .sliding)  // VGG-11 at width 0.25
            XCTAssertEqual(uses([128, 32, 16, 16], [16, 32, 3, 3], product), .sliding)  // C·O = 512
            XCTAssertEqual(uses([2, 16, 32, 32], [16, 16, 3, 3], product), .sliding)    // 2048 outputs per channel
            XCTAssertEqual(uses([32, 16, 8, 8], [16, 16, 3, 3], product), .sliding)     // 8×8 planes
            // Planes of at most 2×2, batches of at least 32, up to 128 × 128 channels: the plane map.
            XCTAssertEqual(uses([128, 128, 2, 2], [128, 128, 3, 3], product), .sliding) // VGG-11 at width 0.25
            XCTAssertEqual(uses([128, 512, 2, 2], [512, 512, 3, 3], product), .winograd2x2) // VGG-16
            XCTAssertNotEqual(uses([128, 128, 2, 2], [129, 128, 3, 3], product), .sliding)
            XCTAssertEqual(uses([32, 3, 1, 2], [5, 3, 3, 3], product), .sliding)
            XCTAssertEqual(uses([31, 128, 2, 2], [128, 128, 3, 3], product), .direct)
            XCTAssertEqual(uses([1, 512, 2, 2], [512, 512, 3, 3], product), .direct)    // SynFlow's single sample
        }
        XCTAssertEqual(uses([128, 3, 32, 32], [16, 3, 3, 3]), .sliding)                  // a first layer (ResNet-20, VGG-11/4)
        XCTAssertEqual(uses([128, 3, 32, 32], [16, 3, 3, 3], .weightGradient), .sliding)
        XCTAssertEqual(uses([128, 3, 32, 32], [16, 3, 3, 3], .inputGradient), .direct)   // onto 3 channels
        XCTAssertEqual(uses([128, 8, 32, 32], [16, 8, 3, 3], .inputGradient), .sliding)  // onto 8 channels
        XCTAssertEqual(uses([128, 3, 32, 32], [64, 3, 3, 3]), .sliding)                  // 64 output channels (VGG-16's first)
        XCTAssertEqual(uses([128, 3, 32, 32], [64, 3, 3, 3], .weightGradient), .sliding)
        XCTAssertEqual(uses([64, 1, 28, 28], [64, 1, 3, 3], .weightGradient), .sliding)   // Conv-2's first
        XCTAssertEqual(uses([128, 8, 32, 32], [64, 8, 3, 3]), .sliding)                  // C·O = 512
        XCTAssertEqual(uses([128, 8, 32, 32], [65, 8, 3, 3]), .direct)                   // 65 output channels
        XCTAssertEqual(uses([128, 9, 32, 32], [64, 9, 3, 3]), .direct)                   // C·O = 576, 64 output channels
        XCTAssertEqual(uses([128, 16, 16, 16], [33, 16, 3, 3]), .winograd4x4)            // 33 output channels on 16×16
        for product in [ConvProduct.forward, .inputGradient, .weightGradient] {
            XCTAssertEqual(uses([128, 32, 16, 16], [32, 32, 3, 3], product), .winograd4x4) // 32 → 32 (ResNet-20), C·O > 512
        }
        XCTAssertEqual(uses([128, 32, 16, 16], [33, 32, 3, 3]), .winograd4x4)            // 33 output channels, C·O > 512
        XCTAssertEqual(uses([128, 32, 16, 16], [33, 32, 3, 3], .weightGradient), .winograd4x4)
        // Planes of 8×8 to 15×15: up to 32 → 64 channels; the weight gradient up to C·O = 512.
        for product in [ConvProduct.forward, .inputGradient] {
            XCTAssertEqual(uses([128, 32, 8, 8], [64, 32, 3, 3], product), .sliding)    // VGG-11 at width 0.25
            XCTAssertEqual(uses([128, 32, 15, 15], [64, 32, 3, 3], product), .sliding)
            XCTAssertEqual(uses([128, 32, 16, 16], [64, 32, 3, 3], product), .winograd4x4)
            XCTAssertEqual(uses([128, 32, 8, 8], [65, 32, 3, 3], product), .winograd4x4)
        }
        // From 33 input channels on 8×8 to 15×15 planes every product runs F(4×4) (since session 20).
        for product in [ConvProduct.forward, .inputGradient] {
            XCTAssertEqual(uses([128, 64, 8, 8], [64, 64, 3, 3], product), .winograd4x4)   // ResNet-20's and VGG-11's 64 channels
            XCTAssertEqual(uses([128, 64, 15, 15], [64, 64, 3, 3], product), .winograd4x4)
            XCTAssertEqual(uses([128, 33, 8, 8], [64, 33, 3, 3], product), .winograd4x4)
        }
        XCTAssertEqual(uses([128, 64, 16, 16], [64, 64, 3, 3], .inputGradient), .winograd4x4) // 16×16 planes
        XCTAssertEqual(uses([128, 65, 8, 8], [64, 65, 3, 3], .inputGradient), .winograd4x4)   // onto 65 channels
        XCTAssertEqual(uses([128, 64, 8, 8], [65, 64, 3, 3], .inputGradient), .winograd4x4)   // from 65 channels
        XCTAssertEqual(uses([31, 64, 8, 8], [64, 64, 3, 3], .inputGradient), .direct)         // 1984 outputs per channel
        XCTAssertEqual(uses([128, 32, 8, 8], [64, 32, 3, 3], .weightGradient), .direct)
        XCTAssertEqual(uses([128, 16, 8, 8], [32, 16, 3, 3], .weightGradient), .sliding)
        XCTAssertEqual(uses([128, 16, 8, 8], [33, 16, 3, 3], .weightGradient), .direct)
        // Stride 2 (ResNet-20's downsampling layers): the forward pass, and the input gradient onto
        // at least 8 channels of an even height and width; not the weight gradient.
        func strided(_ x: [Int], _ w: [Int], _ product: ConvProduct) -> ConvAlgorithm {
            ConvAlgorithm.chosen(input: x, weight: w, stride: 2, padding: 1, product: product)
        }
        XCTAssertEqual(strided([128, 16, 32, 32], [32, 16, 3, 3], .forward), .sliding)
        XCTAssertEqual(strided([128, 32, 16, 16], [64, 32, 3, 3], .forward), .sliding)
        XCTAssertEqual(strided([128, 16, 32, 32], [32, 16, 3, 3], .inputGradient), .sliding)
        XCTAssertEqual(strided([128, 32, 16, 16], [64, 32, 3, 3], .inputGradient), .sliding)
        XCTAssertEqual(strided([128, 8, 32, 32], [32, 8, 3, 3], .inputGradient), .sliding)   // onto 8 channels
        XCTAssertEqual(strided([128, 7, 32, 32], [32, 7, 3, 3], .inputGradient), .direct)    // onto 7
        XCTAssertEqual(strided([128, 7, 32, 32], [32, 7, 3, 3], .forward), .sliding)
        XCTAssertEqual(strided([128, 16, 30, 30], [32, 16, 3, 3], .inputGradient), .sliding) // 15×15 outputs
        XCTAssertEqual(strided([128, 16, 29, 29], [32, 16, 3, 3], .inputGradient), .direct)  // an odd input
        XCTAssertEqual(strided([128, 16, 30, 29], [32, 16, 3, 3], .inputGradient), .direct)
        XCTAssertEqual(strided([128, 16, 29, 29], [32, 16, 3, 3], .forward), .sliding)
        XCTAssertEqual(strided([31, 16, 16, 16], [16, 16, 3, 3], .inputGradient), .direct)  // 1984 outputs per channel
        XCTAssertEqual(strided([128, 16, 32, 32], [32, 16, 3, 3], .weightGradient), .direct)
        XCTAssertEqual(strided([128, 64, 16, 16], [64, 64, 3, 3], .forward), .direct)  // 64 input channels
        XCTAssertEqual(strided([128, 32, 16, 16], [65, 32, 3, 3], .forward), .direct)  // 65 output channels
        XCTAssertEqual(strided([31, 16, 16, 16], [16, 16, 3, 3], .forward), .direct)   // 1984 outputs per channel
        XCTAssertEqual(strided([32, 16, 16, 16], [16, 16, 3, 3], .forward), .sliding)  // 2048
        XCTAssertEqual(strided([128, 16, 14, 14], [16, 16, 3, 3], .forward), .direct)  // 7×7 outputs
        XCTAssertEqual(ConvAlgorithm.chosen(input: [128, 16, 32, 32], weight: [32, 16, 3, 3], stride: 2, padding: 0), .direct)
        XCTAssertEqual(uses([128, 33, 16, 16], [8, 33, 3, 3]), .direct)                  // 33 input channels
        XCTAssertEqual(uses([1, 16, 32, 32], [16, 16, 3, 3]), .direct)                   // 1024 outputs per channel
        XCTAssertEqual(uses([31, 16, 8, 8], [16, 16, 3, 3]), .direct)                    // 1984 outputs per channel
        XCTAssertEqual(uses([2, 16, 32, 32], [16, 16, 3, 3]), .sliding)
        XCTAssertEqual(ConvAlgorithm.chosen(input: [2, 16, 32, 32], weight: [16, 16, 3, 3], stride: 2, padding: 1), .direct)
        // The default of each product is the rule's choice.
        let x = Tensor.randn([8, 16, 16, 16], seed: 1), w = Tensor.randn([16, 16, 3, 3], seed: 2)
        let gy = Tensor.randn([8, 16, 16, 16], seed: 3)
        XCTAssertEqual(x.conv2d(w, stride: 1, padding: 1).scalars, x.conv2d(w, stride: 1, padding: 1, algorithm: .sliding).scalars)
        XCTAssertEqual(Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: 1, padding: 1).scalars,
                       Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: 1, padding: 1, algorithm: .sliding).scalars)
        XCTAssertEqual(Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1).scalars,
                       Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1, algorithm: .sliding).scalars)
        XCTAssertNotEqual(Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1).scalars,
                          Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1, algorithm: .direct).scalars)
    }

    /// The weight gradient keeps the layer's Winograd only with enough channels to amortize the
    /// transforms: C·O ≥ 64·64 on planes of at least 8×8, C·O ≥ 32·32 on planes of at least
    /// 16×16, and on planes under 8×8 at least
    /// 256 × 256; the forward pass and the input gradient run the layer's algorithm.
    func testWeightGradientRuleFollowsTheChannels() {
        func uses(_ x: [Int], _ w: [Int], _ product: ConvProduct) -> ConvAlgorithm {
            ConvAlgorithm.chosen(input: x, weight: w, stride: 1, padding: 1, product: product)
        }
        let cases: [(x: [Int], w: [Int], layer: ConvAlgorithm, weightGradient: ConvAlgorithm)] = [
            ([2, 64, 32, 32], [64, 64, 3, 3], .winograd4x4, .winograd4x4),      // 64 × 64 (VGG-16's first)
            ([128, 64, 8, 8], [64, 64, 3, 3], .winograd4x4, .winograd4x4),      // 64 × 64 on 8×8 (ResNet-20, VGG-11/4)
            ([128, 64, 8, 8], [65, 64, 3, 3], .winograd4x4, .winograd4x4),      // 64 × 65 on 8×8
            ([128, 64, 15, 15], [64, 64, 3, 3], .winograd4x4, .winograd4x4),    // 64 × 64 on 15×15
            ([128, 63, 8, 8], [64, 63, 3, 3], .winograd4x4, .direct),           // C·O = 4032 on 8×8
            ([128, 32, 8, 8], [64, 32, 3, 3], .sliding, .direct),               // 32 × 64 (VGG-11 at width 0.25)
            ([128, 64, 16, 16], [64, 64, 3, 3], .winograd4x4, .winograd4x4),    // 64 × 64 on 16×16
            ([128, 32, 16, 16], [127, 32, 3, 3], .winograd4x4, .winograd4x4),   // C·O = 4064 on 16×16
            ([128, 32, 16, 16], [128, 32, 3, 3], .winograd4x4, .winograd4x4),   // C·O = 4096
            ([128, 32, 16, 16], [32, 32, 3, 3], .winograd4x4, .winograd4x4),    // 32 × 32 on 16×16 (ResNet-20)
            ([128, 24, 16, 16], [40, 24, 3, 3], .winograd4x4, .direct),         // C·O = 960 on 16×16
            ([128, 32, 15, 15], [40, 32, 3, 3], .sliding, .direct),             // C·O = 1280 on 15×15
            ([128, 128, 4, 4], [128, 128, 3, 3], .winograd4x4, .direct),        // 4×4 planes, 128 × 128
            ([128, 256, 7, 7], [255, 256, 3, 3], .winograd4x4, .direct),        // 7×7 planes, 256 × 255
            ([128, 512, 4, 4], [512, 512, 3, 3], .winograd4x4, .winograd4x4),   // 4×4 planes, 512 × 512
            ([128, 128, 3, 3], [128, 128, 3, 3], .winograd2x2, .direct),        // 3×3 planes, 128 × 128
            ([128, 256, 3, 3], [256, 256, 3, 3], .winograd2x2, .winograd2x2),   // 3×3 planes, 256 × 256
            ([1, 64, 32, 32], [64, 64, 3, 3], .direct, .direct),                // batch 1
        ]
        for c in cases {
            XCTAssertEqual(uses(c.x, c.w, .forward), c.layer, "\(c.x) \(c.w)")
            XCTAssertEqual(uses(c.x, c.w, .inputGradient), c.layer, "\(c.x) \(c.w)")
            XCTAssertEqual(uses(c.x, c.w, .weightGradient), c.weightGradient, "\(c.x) \(c.w)")
        }
        // The default of each product is its rule's choice.
        let x = Tensor.randn([4, 32, 8, 8], seed: 1), w = Tensor.randn([64, 32, 3, 3], seed: 2)
        let gy = Tensor.randn([4, 64, 8, 8], seed: 3)
        XCTAssertEqual(ConvAlgorithm.chosen(input: x.shape, weight: w.shape, stride: 1, padding: 1), .direct)
        XCTAssertEqual(Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1).scalars,
                       Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1, algorithm: .direct).scalars)
        // 24 → 40 on 16×16 (C·O = 960): the layer on F(4×4), its weight gradient direct.
        let big = Tensor.randn([32, 24, 16, 16], seed: 4), gyBig = Tensor.randn([32, 40, 16, 16], seed: 5)
        let wMid = Tensor.randn([40, 24, 3, 3], seed: 6)
        XCTAssertEqual(ConvAlgorithm.chosen(input: big.shape, weight: wMid.shape, stride: 1, padding: 1), .winograd4x4)
        XCTAssertEqual(Tensor.conv2dWeightGrad(big, gyBig, weightShape: wMid.shape, stride: 1, padding: 1).scalars,
                       Tensor.conv2dWeightGrad(big, gyBig, weightShape: wMid.shape, stride: 1, padding: 1, algorithm: .direct).scalars)
        XCTAssertNotEqual(Tensor.conv2dWeightGrad(big, gyBig, weightShape: wMid.shape, stride: 1, padding: 1).scalars,
                          Tensor.conv2dWeightGrad(big, gyBig, weightShape: wMid.shape, stride: 1, padding: 1, algorithm: .winograd4x4).scalars)
        XCTAssertEqual(big.conv2d(wMid, stride: 1, padding: 1).scalars,
                       big.conv2d(wMid, stride: 1, padding: 1, algorithm: .winograd4x4).scalars)
    }

    func testThreadCountDoesNotChangeBits() {
        // The forward pass and the input gradient cut the batch by the thread count (a group per
        // thread when it fits one group: 40 samples of one tile each), the weight gradient not.
        let cases: [ConvTests.Case] = [(10, 4, 24, 24, 3, 3, 3, 1, 1), (300, 2, 4, 4, 3, 3, 3, 1, 1), (3, 3, 9, 7, 2, 3, 3, 1, 1),
                                       (40, 3, 4, 4, 2, 3, 3, 1, 1), (100, 3, 5, 6, 2, 3, 3, 1, 1), (70, 3, 2, 2, 2, 3, 3, 1, 1)]
        for t in cases {
            let (x, w, gy) = ConvTests.operands(t, seed: 7)
            for algorithm in Self.algorithms {
                ConvTests.assertSameBitsOnOneAndTwoThreads("\(t), \(algorithm)") {
                    [x.conv2d(w, stride: 1, padding: 1, algorithm: algorithm),
                     Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: 1, padding: 1, algorithm: algorithm),
                     Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1, algorithm: algorithm)]
                }
            }
        }
    }

    /// A plane of one tile as wide as it (F(4×4) on 4×4 and 3×4, F(2×2) on 2×2 and 1×2), whose
    /// output transform runs along the samples, gives the bits of the same plane at the left of
    /// one two tiles wide padded with zeros, whose tiles take the row pass one sample at a time:
    /// the left tile's patch, transformed input and GEMM chains are the same. Forward and input
    /// gradient, 70 samples (a run of 64 and a short one), on 1 and 2 threads.
    func testPlaneOfOneTileKeepsTheBitsOfAWiderPlane() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        let cases: [(ConvAlgorithm, m: Int, height: Int)] = [(.winograd4x4, 4, 4), (.winograd4x4, 4, 3),
                                                              (.winograd2x2, 2, 2), (.winograd2x2, 2, 1)]
        for (algorithm, m, height) in cases {
            let (x, w, gy) = ConvTests.operands((70, 3, height, m, 5, 3, 3, 1, 1), seed: 21)
            // `t` widened to 2m columns, the new ones zero, and the left m columns of a wide result.
            func widened(_ t: Tensor) -> Tensor {
                var scalars: [Float] = []
                for row in 0..<t.count / m {
                    scalars += t.scalars[row * m..<(row + 1) * m]
                    scalars += [Float](repeating: 0, count: m)
                }
                return Tensor(shape: [t.shape[0], t.shape[1], t.shape[2], 2 * m], scalars: scalars)
            }
            func left(_ t: Tensor) -> [UInt32] {
                var bits: [UInt32] = []
                for row in 0..<t.count / (2 * m) {
                    let start = row * 2 * m
                    bits += t.scalars[start..<start + m].map(\.bitPattern)
                }
                return bits
            }
            let wideX = widened(x), wideGy = widened(gy)
            for threads in [1, 2] {
                Parallel.threads = threads
                let label = "\(algorithm), \(height)×\(m), \(threads) threads"
                XCTAssertEqual(x.conv2d(w, stride: 1, padding: 1, algorithm: algorithm).scalars.map(\.bitPattern),
                               left(wideX.conv2d(w, stride: 1, padding: 1, algorithm: algorithm)), "forward, \(label)")
                XCTAssertEqual(Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: 1, padding: 1,
                                                      algorithm: algorithm).scalars.map(\.bitPattern),
                               left(Tensor.conv2dInputGrad(wideGy, w, inputShape: wideX.shape, stride: 1, padding: 1,
                                                           algorithm: algorithm)), "input gradient, \(label)")
            }
        }
    }

    /// The weight gradient's groups run in waves of one per thread; a last wave of one group
    /// (3 groups of F(4×4) on 2 threads, 5 of F(2×2) on 2 and 3) runs its products on all threads,
    /// which gives the bits of one thread.
    func testLoneGroupOfTheLastWaveKeepsBits() {
        let (x, w, gy) = ConvTests.operands((600, 2, 4, 4, 3, 3, 3, 1, 1), seed: 11)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for algorithm in Self.algorithms {
            var results: [[UInt32]] = []
            for threads in [1, 2, 3] {
                Parallel.threads = threads
                results.append(Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1,
                                                       algorithm: algorithm).scalars.map(\.bitPattern))
            }
            XCTAssertEqual(results[0], results[1], "\(algorithm), 2 threads")
            XCTAssertEqual(results[0], results[2], "\(algorithm), 3 threads")
        }
    }
}
