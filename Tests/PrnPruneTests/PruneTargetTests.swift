import XCTest
@testable import PrnPrune

final class PruneTargetTests: XCTestCase {
    func testCountsRoundTheProductInsteadOfFlooringIt() {
        // METHODS.md's trap: the floored product loses a weight on LeNet-300-100's 266,200.
        XCTAssertEqual(Int((1 - 0.9) * 266_200.0), 26_619)
        XCTAssertEqual(PruneTarget.keptCount(density: PruneTarget.sparsity(0.9).density, total: 266_200), 26_620)
        XCTAssertEqual(PruneTarget.keptCount(density: PruneTarget.density(0.1).density, total: 266_200), 26_620)
    }

    func testRoundHalfToEvenAndBounds() {
        XCTAssertEqual(PruneTarget.keptCount(density: 0.5, total: 5), 2)   // 2.5 → 2
        XCTAssertEqual(PruneTarget.keptCount(density: 0.5, total: 7), 4)   // 3.5 → 4
        XCTAssertEqual(PruneTarget.keptCount(density: 0, total: 7), 0)
        XCTAssertEqual(PruneTarget.keptCount(density: 1, total: 7), 7)
    }

    func testCompressionIsAPowerOfTen() {
        XCTAssertEqual(PruneTarget.compression(1).density, 0.1, accuracy: 1e-15)
        XCTAssertEqual(PruneTarget.compression(2).density, 0.01, accuracy: 1e-16)
        XCTAssertEqual(PruneTarget.keptCount(density: PruneTarget.compression(2).density, total: 266_200), 2_662)
    }

    func testExponentialScheduleEndsExactlyAtTheTarget() {
        let t = PruneTarget.sparsity(0.99)
        XCTAssertEqual(t.density(afterRound: 100, of: 100), t.density)
        XCTAssertEqual(t.density(afterRound: 50, of: 100), 0.1, accuracy: 1e-12)
        XCTAssertEqual(t.density(afterRound: 1, of: 100), Foundation.pow(0.01, 0.01), accuracy: 1e-15)
    }

    func testInvalidTargetsThrow() {
        XCTAssertThrowsError(try PruneTarget.density(1.5).validate())
        XCTAssertThrowsError(try PruneTarget.sparsity(-0.1).validate())
        XCTAssertThrowsError(try PruneTarget.compression(.nan).validate())
        XCTAssertNoThrow(try PruneTarget.sparsity(0.999).validate())
    }

    func testDescriptionHidesFloatNoise() {
        XCTAssertEqual(PruneTarget.format(1 - 0.9), "0.1")
        XCTAssertEqual(PruneTarget.sparsity(0.9).description, "sparsity=0.9")
    }
}
