import Foundation
import XCTest

/// Package.swift says what the code does: every target lists each package module it imports.
/// SwiftPM lets a target import modules it only reaches through another target, so the build
/// alone does not catch an undeclared import; this test reads the manifest and the sources.
final class PackageGraphTests: XCTestCase {
    func testEveryImportedTargetIsDeclared() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let targets = PackageManifest.targets(in: manifest)
        XCTAssertTrue(targets.contains { $0.name == "PrnKernel" }, "the manifest reader found no targets")
        var sources: [String: String] = [:]
        for target in targets {
            let folder = root.appendingPathComponent(target.path)
            guard let files = FileManager.default.enumerator(atPath: folder.path) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                sources["\(target.path)/\(file)"] = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            }
        }
        XCTAssertGreaterThan(sources.count, 50, "the sources were not found beside Package.swift")
        let problems = PackageManifest.undeclaredImports(targets: targets, sources: sources)
        XCTAssertEqual(problems, [], "declare these in Package.swift")
        XCTAssertEqual(PackageManifest.unusedDependencies(targets: targets, sources: sources), [],
                       "remove these from Package.swift, or import them where they are used")
    }

    /// The checker itself: an import of a package module the target does not list is reported,
    /// a declared one, a product, the target itself and system modules are not.
    func testCheckerReportsAnUndeclaredImport() {
        let manifest = """
            targets: [
                .target(name: "Low"),
                .target(name: "Middle", dependencies: ["Low"], swiftSettings: speed),
                .executableTarget(name: "app", dependencies: ["Middle", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
                .testTarget(name: "MiddleTests", dependencies: ["Middle"]),
                .target(name: "Support", dependencies: ["Low"], path: "Tests/Support"),
            ]
            """
        let targets = PackageManifest.targets(in: manifest)
        XCTAssertEqual(targets.map(\.name), ["Low", "Middle", "app", "MiddleTests", "Support"])
        XCTAssertEqual(targets.map(\.path), ["Sources/Low", "Sources/Middle", "Sources/app", "Tests/MiddleTests", "Tests/Support"])
        XCTAssertEqual(targets[2].dependencies, ["Middle", "ArgumentParser"])
        let sources = [
            "Sources/Middle/A.swift": "import Foundation\nimport Low\n",
            "Sources/app/Main.swift": "import ArgumentParser\nimport Middle\nimport Low\n",
            "Tests/MiddleTests/T.swift": "import XCTest\n@testable import Middle\n@testable import Low\n",
            "Tests/Support/S.swift": "import Low\n// import Middle in a comment does not count\n",
        ]
        XCTAssertEqual(PackageManifest.undeclaredImports(targets: targets, sources: sources), [
            "Sources/app/Main.swift:3: app imports Low, which its dependencies do not list",
            "Tests/MiddleTests/T.swift:3: MiddleTests imports Low, which its dependencies do not list",
        ])
        // Every target of the fixture imports each one it lists; a commented-out import does not count.
        XCTAssertEqual(PackageManifest.unusedDependencies(targets: targets, sources: sources), [])
        var unused = sources
        unused["Sources/Middle/A.swift"] = "import Foundation\n// import Low\n"
        XCTAssertEqual(PackageManifest.unusedDependencies(targets: targets, sources: unused),
                       ["Middle lists Low, which none of its files imports"])
    }
}

/// A reading of Package.swift's target declarations, enough for the import check.
enum PackageManifest {
    struct Target {
        var name: String
        var path: String
        var dependencies: [String]
    }

    /// The targets declared with `.target`, `.executableTarget`, `.testTarget` or `.systemLibrary`.
    static func targets(in manifest: String) -> [Target] {
        var result: [Target] = []
        let kinds = [".target(", ".executableTarget(", ".testTarget(", ".systemLibrary("]
        var rest = manifest[...]
        while let start = kinds.compactMap({ rest.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            let kind = rest[start]
            let body = balanced(rest[start.upperBound...], open: "(", close: ")")
            rest = rest[body.endIndex...]
            guard let name = firstString(after: "name:", in: body) else { continue }
            let path = firstString(after: "path:", in: body) ?? (kind == ".testTarget(" ? "Tests/\(name)" : "Sources/\(name)")
            var dependencies: [String] = []
            if let list = body.range(of: "dependencies:") {
                let items = balanced(body[list.upperBound...].drop { $0 != "[" }.dropFirst(), open: "[", close: "]")
                dependencies = strings(in: items.replacingOccurrences(of: #"package: "[^"]*""#, with: "", options: .regularExpression))
            }
            result.append(Target(name: name, path: path, dependencies: dependencies))
        }
        return result
    }

    /// `file:line: target imports M, …` for each import of a package module (a target or a
    /// product some target depends on) that the importing target does not list.
    static func undeclaredImports(targets: [Target], sources: [String: String]) -> [String] {
        let modules = Set(targets.map(\.name) + targets.flatMap(\.dependencies))
        var problems: [String] = []
        for (file, text) in sources.sorted(by: { $0.key < $1.key }) {
            guard let target = targets.filter({ file.hasPrefix($0.path + "/") }).max(by: { $0.path.count < $1.path.count }) else { continue }
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                guard let module = importedModule(line), modules.contains(module), module != target.name,
                      !target.dependencies.contains(module) else { continue }
                problems.append("\(file):\(number + 1): \(target.name) imports \(module), which its dependencies do not list")
            }
        }
        return problems
    }

    /// `target lists M, …` for each dependency that no file of the target imports (the manifest
    /// says more than the code does). Targets without sources here are skipped.
    static func unusedDependencies(targets: [Target], sources: [String: String]) -> [String] {
        var problems: [String] = []
        for target in targets {
            let files = sources.filter { $0.key.hasPrefix(target.path + "/") }
            guard !files.isEmpty else { continue }
            let imported = Set(files.values.flatMap { text in
                text.split(separator: "\n", omittingEmptySubsequences: false).compactMap(importedModule)
            })
            for module in target.dependencies where !imported.contains(module) {
                problems.append("\(target.name) lists \(module), which none of its files imports")
            }
        }
        return problems
    }

    /// The module an `import` line names (`import X`, `@testable import X`, `import struct X.Y`).
    static func importedModule(_ line: Substring) -> String? {
        let pattern = #"^\s*(@\w+\s+)*import\s+((class|struct|enum|protocol|typealias|func|var|let)\s+)?([A-Za-z_][A-Za-z0-9_]*)"#
        guard let match = line.range(of: pattern, options: .regularExpression) else { return nil }
        return String(line[match].split(whereSeparator: { $0 == " " || $0 == "\t" }).last!.split(separator: ".")[0])
    }

    /// The text up to the bracket closing the one already opened before `text`.
    private static func balanced(_ text: Substring, open: Character, close: Character) -> Substring {
        var depth = 1
        for index in text.indices {
            if text[index] == open { depth += 1 }
            if text[index] == close { depth -= 1 }
            if depth == 0 { return text[..<index] }
        }
        return text
    }

    private static func firstString(after label: String, in text: Substring) -> String? {
        guard let range = text.range(of: label) else { return nil }
        return strings(in: String(text[range.upperBound...])).first
    }

    private static func strings(in text: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: #""([^"]*)""#)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            String(text[Range($0.range(at: 1), in: text)!])
        }
    }
}
