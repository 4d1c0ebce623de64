// swift-tools-version:6.0
import PackageDescription
import Foundation

// The GEMM micro-kernel needs the build to target the CPU's vector units (AVX2 + FMA at least):
// Swift's default x86-64 target has neither, and `addingProduct` then becomes a libm call per lane.
// `-Xcc -march=native` changes Swift's own code generation too. Set PRN_PORTABLE=1 for a binary that
// runs on any x86-64 (about 4x slower GEMM); PRN_MARCH=x86-64-v3 picks a specific target.
let environment = ProcessInfo.processInfo.environment
var kernelFlags: [SwiftSetting] = []
#if arch(x86_64)
if environment["PRN_PORTABLE"] == nil {
    let march = environment["PRN_MARCH"] ?? "native"
    kernelFlags.append(.unsafeFlags(["-Xcc", "-march=\(march)"]))
}
#endif
// `-fno-math-errno`: without it, `squareRoot()` goes through the C shim's errno-setting `sqrtf`
// (a branch and a scalar call per lane), so `SIMD8.squareRoot()` never becomes one `vsqrtps` and
// Adam's update ran at a quarter of its speed. IEEE square roots are correctly rounded either way,
// so results do not change.
let speed: [SwiftSetting] = kernelFlags + [.unsafeFlags(["-enforce-exclusivity=unchecked", "-Xcc", "-fno-math-errno"])]

let package = Package(
    name: "prn",
    platforms: [.macOS(.v13)],
    products: [.executable(name: "prn", targets: ["prn"])],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    // Each target lists every target it imports (the PackageGraphTests check it), lowest first:
    // whole-file writes; the kernel, autograd and data; the network layer; notebooks and tables;
    // pruning and statistics; the language; benchmarks and the executable.
    targets: [
        .systemLibrary(name: "CLibEdit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // No pkgConfig: libzmq's .pc adds -isystem flags SwiftPM refuses (a warning on every build),
        // and zmq.h is in /usr/include on Debian.
        .systemLibrary(name: "CZmq", providers: [.apt(["libzmq3-dev"])]),
        // Atomic whole-file writes, Foundation only: checkpoints (PrnNN) and notebooks and tables
        // (PrnNotebook) both write files, and neither needs the other or the compute kernel for it.
        .target(name: "PrnFiles"),
        // Cache prefetch hints, header-only C: Swift cannot emit a prefetch instruction.
        .target(name: "CPrefetch"),
        .target(name: "PrnKernel", dependencies: ["CPrefetch"], swiftSettings: speed),
        .target(name: "PrnAutograd", dependencies: ["PrnKernel"], swiftSettings: speed),
        .target(name: "PrnData", dependencies: ["PrnKernel", "CZlib"], swiftSettings: speed),
        .target(name: "PrnNN", dependencies: ["PrnFiles", "PrnKernel", "PrnAutograd", "PrnData"], swiftSettings: speed),
        .target(name: "PrnNotebook", dependencies: ["PrnFiles"]),
        .target(name: "PrnPrune", dependencies: ["PrnKernel", "PrnAutograd", "PrnData", "PrnNN", "PrnNotebook"],
                swiftSettings: speed),
        .target(name: "PrnLang", dependencies: ["PrnFiles", "PrnKernel", "PrnData", "PrnNN", "PrnPrune", "PrnNotebook"],
                swiftSettings: speed),
        .target(name: "PrnBench", dependencies: ["PrnKernel", "PrnData", "PrnNN", "PrnPrune"], swiftSettings: speed),
        .target(name: "PrnJupyter", dependencies: ["PrnFiles", "PrnLang", "PrnNotebook", "CZmq"]),
        .executableTarget(
            name: "prn",
            dependencies: ["PrnKernel", "PrnNotebook", "PrnLang", "PrnBench", "PrnJupyter", "CLibEdit",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: speed),
        .target(name: "PrnTestSupport", dependencies: ["PrnKernel", "PrnAutograd"], path: "Tests/PrnTestSupport"),
        .testTarget(name: "PrnFilesTests", dependencies: ["PrnFiles"]),
        .testTarget(name: "PrnKernelTests", dependencies: ["PrnKernel", "PrnTestSupport"], swiftSettings: speed),
        .testTarget(name: "PrnAutogradTests", dependencies: ["PrnKernel", "PrnAutograd", "PrnTestSupport"],
                    swiftSettings: speed),
        .testTarget(name: "PrnNNTests", dependencies: ["PrnFiles", "PrnKernel", "PrnAutograd", "PrnData", "PrnNN", "PrnTestSupport"],
                    swiftSettings: speed),
        .testTarget(name: "PrnPruneTests",
                    dependencies: ["PrnKernel", "PrnAutograd", "PrnData", "PrnNN", "PrnNotebook", "PrnPrune", "PrnTestSupport"],
                    swiftSettings: speed),
        .testTarget(name: "PrnDataTests", dependencies: ["PrnKernel", "PrnData", "CZlib", "PrnTestSupport"], swiftSettings: speed),
        .testTarget(name: "PrnLangTests", dependencies: ["PrnKernel", "PrnNotebook", "PrnPrune", "PrnLang", "PrnTestSupport"],
                    swiftSettings: speed),
        // Runs the built `prn` executable (found beside the test bundle), so it needs no modules.
        .testTarget(name: "PrnCLITests", dependencies: ["PrnTestSupport"]),
        .testTarget(name: "PackageGraphTests"),
        .testTarget(name: "PrnJupyterTests", dependencies: ["PrnNotebook", "PrnJupyter", "PrnTestSupport"],
                    exclude: ["checks.py", "kernel_test.py", "notebook_test.py"]),
    ],
    swiftLanguageModes: [.v5]
)
