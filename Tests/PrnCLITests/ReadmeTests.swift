import Foundation
import XCTest

/// README's command lines that finish in a moment, run as written.
final class ReadmeTests: FolderTestCase {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("README.md")

    /// `prn -e '…'` from "Using prn": a matrix product's shape.
    func testDashEExample() throws {
        let text = try String(contentsOf: Self.readme, encoding: .utf8)
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix(".build/release/prn -e '") })
        let statement = line.drop { $0 != "'" }.dropFirst().prefix { $0 != "'" }
        let result = try prn("-e", String(statement))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdoutLines, ["[64, 16]"])
    }
}
