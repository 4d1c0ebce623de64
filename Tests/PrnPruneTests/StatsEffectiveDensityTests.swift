import XCTest
import PrnKernel
import PrnNN
@testable import PrnPrune

final class StatsEffectiveDensityTests: XCTestCase {
    /// The `effective_density` column counts, per layer, the kept weights on an input–output path.
    func testDescribeReportsEffectiveDensity() throws {
        let m = try PruneFixtures.mlp(input: 6, hidden: [5, 4], classes: 3)
        // fc2 keeps only row 0 (hidden unit 0 of the second layer); fc3 keeps only column 1, fed by
        // hidden unit 1: no path survives, so every kept weight is ineffective.
        var masks: [String: Tensor] = [:]
        masks["fc1.weight"] = Tensor.ones([5, 6])
        masks["fc2.weight"] = Tensor(shape: [4, 5], scalars: (0..<20).map { $0 < 5 ? 1 : 0 })
        masks["fc3.weight"] = Tensor(shape: [3, 4], scalars: (0..<12).map { $0 % 4 == 1 ? 1 : 0 })
        let rows = LayerStats.describe(model: m.withMasks(masks))
        XCTAssertEqual(rows.map(\.density), [1, 0.25, 0.25])
        XCTAssertEqual(rows.map(\.effectiveDensity), [0, 0, 0])
        let dense = LayerStats.describe(model: m)
        XCTAssertEqual(dense.map(\.effectiveDensity), [1, 1, 1])
        XCTAssertEqual(LayerDescription.columns[5], "effective_density")
        XCTAssertEqual(dense[0].row[5], .number(1))
    }
}
