import Foundation
import XCTest

/// The independent references some tests check against: python3 with numpy or scipy, and data
/// sets installed by scripts/install-deps.sh.
///
/// Where one is missing a test skips — unless `PRN_REQUIRE_REFERENCES` is set (as `.ci/run`
/// does), and then it fails, so a suite that compared nothing cannot pass as green.
public enum References {
    /// Whether a missing reference fails the test instead of skipping it.
    public static let required: Bool = {
        let value = ProcessInfo.processInfo.environment["PRN_REQUIRE_REFERENCES"] ?? ""
        return !value.isEmpty && value != "0"
    }()

    /// A reference that is not installed where references are required.
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    /// Returns when `available`; otherwise skips the test, or fails it when references are required.
    public static func require(_ available: Bool, _ what: @autoclosure () -> String) throws {
        guard !available else { return }
        if required {
            throw Missing(description: "\(what()) is missing and PRN_REQUIRE_REFERENCES is set (run scripts/install-deps.sh)")
        }
        // The only skip in the suite: CI sets PRN_REQUIRE_REFERENCES, so it never gets here.
        throw XCTSkip("\(what()) is missing (scripts/install-deps.sh installs it)")
    }
}
