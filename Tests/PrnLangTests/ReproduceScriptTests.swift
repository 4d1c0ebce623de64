import Foundation
import XCTest
@testable import PrnLang

/// The reproduction scripts under scripts/reproduce run end to end on tiny synthetic data (the
/// settings a user would pass with --set), and write their figures.
final class ReproduceScriptTests: XCTestCase {
    /// Runs a script with `--set`-style overrides in a scratch folder and checks the files it wrote.
    func run(_ script: String, _ settings: [String: String], files: [String]) throws {
        let path = repositoryRoot.appendingPathComponent("scripts/reproduce/\(script)").path
        let source = try String(contentsOfFile: path, encoding: .utf8)
        let overrides = try settings.mapValues { try Interpreter.overrideValue($0) }
        try inScratchFolder { folder in
            let result = Session().run(source, file: path, directory: folder.path, overrides: overrides)
            XCTAssertEqual(result.outcome, .ok, "\(script): \(result.stderr.joined(separator: "\n"))")
            XCTAssertFalse(result.stdout.contains { $0.contains("nan ±") }, "\(script): a run produced no accuracy")
            for file in files {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                guard file.hasSuffix(".svg") else { XCTAssertFalse(text.isEmpty, file); continue }
                XCTAssertTrue(text.hasPrefix("<svg"), file)
                XCTAssertTrue(text.contains("class=\"series\"") || text.contains("class=\"cell\""), "\(file) draws data")
            }
        }
    }

    func testFrankleCIFARWithBaselines() throws {
        try run("frankle-cifar.prn", ["source": "synthetic", "epochs": "2", "milestones": "[1]", "width": "0.0625",
                                      "levels": "2", "archs": "[resnet20]", "methods": "[random, snip]", "seeds": "[0]",
                                      "sparsities": "[0.9]", "synthetic_train": "128"],
                files: ["frankle-cifar-accuracy.svg", "frankle-cifar-accuracy.csv", "frankle-cifar-baselines.csv"])
    }

    func testSuSanityChecks() throws {
        try run("su-sanity.prn", ["source": "synthetic", "epochs": "1", "milestones": "[1]", "width": "0.0625",
                                  "archs": "[resnet20]", "seeds": "[0]", "sparsities": "[0.9]", "synthetic_train": "128"],
                files: ["su-sanity-accuracy.svg"])
    }

    func testSinghLiuQuick() throws {
        try run("singh-liu-quick.prn", ["source": "synthetic", "epochs": "1", "seeds": "[0, 1]", "sparsities": "[0.9, 0.98]"],
                files: ["singh-liu-quick-plots/accuracy.svg", "singh-liu-quick-plots/ks-ablations.svg",
                          "singh-liu-quick-plots/ks-full-init.svg"])
    }
}
