import Foundation
import XCTest
import PrnTestSupport

/// Files `save` writes: what they hold (read back by numpy), and that a save that fails — the
/// disk full, the process killed while writing — leaves the previous file as it was.
final class SaveTests: FolderTestCase {
    /// A small model in `m.safetensors`, and a script that saves a 3 MB one over it.
    private func writeOldFileAndBigSave() throws -> Data {
        try write("small.prn", """
            d = data synthetic classes=3 shape=[8] train=30 test=30 seed=1
            m = model mlp widths=[4] data=d seed=3
            save m to "m.safetensors"
            """)
        try write("big.prn", """
            d = data synthetic classes=10 shape=[784] train=20 test=20 seed=1
            m = model mlp widths=[1000] data=d seed=3
            save m to "m.safetensors"
            print "saved"
            """)
        let small = try prn("run", "small.prn")
        XCTAssertEqual(small.status, 0, small.stderr)
        return try Data(contentsOf: folder.appendingPathComponent("m.safetensors"))
    }

    /// `prn run big.prn` with files limited to 64 blocks (32–64 KB), through /bin/sh's ulimit.
    private func runWithFileSizeLimit(ignoringSignal: Bool) throws -> PrnBinary.Result {
        let trap = ignoringSignal ? "trap '' XFSZ; " : ""
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", trap + "ulimit -f 64; exec \"$0\" run big.prn", PrnBinary.url.path]
        process.currentDirectoryURL = folder
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return PrnBinary.Result(status: status, stdout: String(decoding: stdout, as: UTF8.self),
                                stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// The disk fills up (EFBIG under a file-size limit): the save fails with an error and the
    /// old file is untouched, with no temporary file left behind.
    func testFailedSaveKeepsTheOldFile() throws {
        let old = try writeOldFileAndBigSave()
        let result = try runWithFileSizeLimit(ignoringSignal: true)
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("m.safetensors: cannot write: File too large"), result.stderr)
        XCTAssertFalse(result.stdout.contains("saved"))
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("m.safetensors")), old)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(),
                       ["big.prn", "m.safetensors", "small.prn"])
    }

    /// The process is killed in the middle of writing (SIGXFSZ at the limit): the old file is
    /// untouched, and loads.
    func testKilledSaveKeepsTheOldFile() throws {
        let old = try writeOldFileAndBigSave()
        let result = try runWithFileSizeLimit(ignoringSignal: false)
        XCTAssertEqual(result.status, 128 + SIGXFSZ, "killed while writing: \(result.stderr)")
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("m.safetensors")), old)
        let load = try prn("-e", "m = load \"m.safetensors\"", "-e", "print m.params")
        XCTAssertEqual(load.status, 0, load.stderr)
        XCTAssertEqual(load.stdoutLines, ["51"], "8·4 + 4 + 4·3 + 3 parameters")
    }

    /// A notebook that cannot be written is an error (status 1) after the run's output.
    func testUnwritableNotebookIsAnError() throws {
        try write("ok.prn", "print 1\n")
        try write("file", "not a folder\n")
        let result = try prn("run", "ok.prn", "--notebook", "file/out.md")
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdoutLines, ["1"])
        XCTAssertTrue(result.stderr.hasPrefix("error: cannot write the notebook file/out.md"), result.stderr)
    }

    /// `save scores to` writes per-layer score tensors; magnitude scores are |w| of the model's
    /// weights, read by numpy from both files.
    func testSavedScoresAreWhatTheMethodClaims() throws {
        try write("scores.prn", """
            d = data synthetic classes=3 shape=[12] train=60 test=30 seed=1
            m = model mlp widths=[10] data=d seed=2
            save m to "m.safetensors"
            e = scores m method=magnitude
            save e to "e.safetensors"
            """)
        let run = try prn("run", "scores.prn")
        XCTAssertEqual(run.status, 0, run.stderr)
        let program = """
            import sys, json, struct, numpy as np
            def tensors(path):
                raw = open(path, 'rb').read()
                n = struct.unpack('<Q', raw[:8])[0]
                header = json.loads(raw[8:8 + n])
                header.pop('__metadata__', None)
                return {k: np.frombuffer(raw[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]], dtype='<f4')
                        for k, v in header.items() if v['dtype'] == 'F32'}
            m, e = tensors(sys.argv[1]), tensors(sys.argv[2])
            print(json.dumps(sorted([k, bool(np.array_equal(e[k], np.abs(m[k])))] for k in e)))
            """
        let output = try Python.run(program, input: "", arguments: ["m.safetensors", "e.safetensors"].map {
            folder.appendingPathComponent($0).path
        }, needs: ["numpy"])
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines),
                       #"[["fc1.weight", true], ["fc2.weight", true]]"#)
    }
}
