import XCTest
@testable import PrnLang

/// Completion offers the new commands and their choices, from their declarations.
final class PaperCompletionTests: XCTestCase {
    func testNewCommandsParametersAndChoicesComplete() {
        let i = Session().interpreter
        XCTAssertEqual(i.completions(before: "p = prune m method=random scope=", word: "e"), ["er", "erk"])
        XCTAssertEqual(i.completions(before: "p = prune m method=snip corrupt=", word: ""), ["labels", "pixels"])
        XCTAssertTrue(i.completions(before: "p = prune m ", word: "dense").contains { $0.hasPrefix("dense_first") })
        XCTAssertTrue(i.completions(before: "", word: "shuffle_w").contains("shuffle_weights"))
        XCTAssertTrue(i.completions(before: "", word: "rew").contains("rewind"))
        XCTAssertEqual(Set(i.completions(before: "plot ", word: "")).intersection(["line", "heat", "hist"]), ["line", "heat", "hist"])
    }
}
