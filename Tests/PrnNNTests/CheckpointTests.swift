import XCTest
import Foundation
import PrnKernel
import PrnFiles
import PrnTestSupport
@testable import PrnNN

final class CheckpointTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("prn-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func prunedConvNet() throws -> Model {
        var m = try Model(Architecture(name: .vgg11, inputShape: [3, 16, 16], classes: 10, width: 0.125), seed: 7)
        var masks: [String: Tensor] = [:]
        for (i, p) in m.prunablePaths.enumerated() {
            masks[p] = Tensor.rand(m.state[p]!.shape, seed: UInt64(i)).map { $0 < 0.3 ? 1 : 0 }
        }
        m = m.withMasks(masks)
        m.provenance["method"] = "snip"
        return m
    }

    func testRoundTripGivesIdenticalOutputs() throws {
        let m = try prunedConvNet()
        try m.save(to: path("m.safetensors"))
        let back = try Model.load(from: path("m.safetensors"))
        XCTAssertEqual(back.architecture, m.architecture)
        XCTAssertEqual(back.state, m.state)
        XCTAssertEqual(back.masks, m.masks)
        XCTAssertEqual(back.provenance["method"], "snip")
        let x = Tensor.randn([2, 3, 16, 16], seed: 3)
        XCTAssertEqual(back.predict(x), m.predict(x))
        // No temporary file is left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["m.safetensors"])
    }

    /// A checkpoint written by prn 0.1, whose architecture held the zoo name and initializer as
    /// plain strings, loads into the typed architecture; an initializer prn does not know is an
    /// error, not Kaiming.
    func testCheckpointOfPrn01Loads() throws {
        let fresh = try Model(Architecture(name: .lenet300, inputShape: [1, 28, 28], classes: 10, initializer: .xavier), seed: 3)
        func write(initializer: String, to file: String) throws {
            let architecture = #"{"classes":10,"hidden":[],"initializer":"\#(initializer)","inputShape":[1,28,28],"name":"lenet300","width":1}"#
            let metadata = ["format": "prn", "architecture": architecture,
                            "provenance": #"{"ablation":"none","init_seed":"3","method":"magnitude"}"#]
            try AtomicFile.write(try SafeTensors.encode(fresh.state.mapValues { .f32($0) }, metadata: metadata), to: path(file))
        }
        try write(initializer: "xavier", to: "old.safetensors")
        let old = try Model.load(from: path("old.safetensors"))
        XCTAssertEqual(old.architecture, fresh.architecture)
        XCTAssertEqual(old.architecture.name, .lenet300)
        XCTAssertEqual(old.architecture.initializer, .xavier)
        XCTAssertEqual(old.state, fresh.state)
        XCTAssertEqual(old.provenance["method"], "magnitude")
        try write(initializer: "orthogonal", to: "unknown.safetensors")
        XCTAssertThrowsError(try Model.load(from: path("unknown.safetensors"))) { error in
            XCTAssertTrue("\(error)".contains("orthogonal"), "\(error)")
        }
    }

    /// An independent reader in Python (struct + json + numpy) sees the same tensors.
    func testPythonReadsTheCheckpoint() throws {
        let m = try prunedConvNet()
        try m.save(to: path("py.safetensors"))
        let script = """
        import json, struct, sys, numpy as np
        raw = open(sys.argv[1], 'rb').read()
        n = struct.unpack('<Q', raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        meta = header.pop('__metadata__')
        arch = json.loads(meta['architecture'])
        out = {'arch': arch['name']}
        for name, info in header.items():
            lo, hi = info['data_offsets']
            dt = {'F32': '<f4', 'U8': 'u1'}[info['dtype']]
            a = np.frombuffer(raw[8 + n + lo:8 + n + hi], dtype=dt).reshape(info['shape'])
            out[name] = [float(a.astype(np.float64).sum()), list(a.shape), float(a.ravel()[0])]
        print(json.dumps(out))
        """
        let output = try Python.run(script, input: "", arguments: [path("py.safetensors")], needs: ["numpy"])
        let data = Data(output.utf8)
        let seen = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        XCTAssertEqual(seen["arch"] as? String, "vgg11")
        XCTAssertEqual(seen.count - 1, m.state.count + m.masks.count)
        for (name, t) in m.state {
            let info = seen[name] as! [Any]
            XCTAssertEqual((info[1] as! [NSNumber]).map(\.intValue), t.shape, name)
            XCTAssertEqual((info[2] as! NSNumber).floatValue, t.scalars[0], name)
            XCTAssertEqual((info[0] as! NSNumber).doubleValue, t.scalars.map(Double.init).reduce(0, +), accuracy: 1e-6 * Double(t.count), name)
        }
        for (name, mask) in m.masks {
            let info = seen[name + "_mask"] as! [Any]
            XCTAssertEqual((info[0] as! NSNumber).doubleValue, Double(mask.sum().item), name)
        }
    }

    func testCorruptFilesGiveClearErrors() throws {
        let m = try prunedConvNet()
        try m.save(to: path("good.safetensors"))
        let good = try Data(contentsOf: URL(fileURLWithPath: path("good.safetensors")))
        func expectError(_ bytes: Data, containing text: String, line: UInt = #line) throws {
            try bytes.write(to: URL(fileURLWithPath: path("bad.safetensors")))
            XCTAssertThrowsError(try Model.load(from: path("bad.safetensors")), line: line) { error in
                XCTAssertTrue("\(error)".contains(text), "\(error)", line: line)
                XCTAssertTrue("\(error)".hasPrefix("bad.safetensors: "), "\(error)", line: line)
            }
        }
        try expectError(good.prefix(5), containing: "too short")
        try expectError(good.prefix(good.count - 100), containing: "truncated")
        var huge = good
        huge.replaceSubrange(0..<8, with: [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])
        try expectError(huge, containing: "header length")
        var garbage = good
        garbage[8] = 0x21
        try expectError(garbage, containing: "JSON")
        var wrongType = good
        let f32 = wrongType.range(of: Data("\"F32\"".utf8))!
        wrongType.replaceSubrange(f32, with: Data("\"F64\"".utf8))
        try expectError(wrongType, containing: "unsupported dtype")
        XCTAssertThrowsError(try Model.load(from: path("missing.safetensors"))) { XCTAssertTrue("\($0)".contains("no such file")) }
    }
}
