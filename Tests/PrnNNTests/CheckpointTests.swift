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
        m.provenance.pruning = .init(method: .snip, density: 0.3, sparsity: 0.7, scope: .layer, last: 1, seed: 5, rounds: 1,
                                     samples: 100)
        m.provenance.ablations = [.init(.shuffle, seed: 1), .init(.reinit, seed: 2)]
        return m
    }

    func testRoundTripGivesIdenticalOutputs() throws {
        let m = try prunedConvNet()
        try m.save(to: path("m.safetensors"))
        let back = try Model.load(from: path("m.safetensors"))
        XCTAssertEqual(back.architecture, m.architecture)
        XCTAssertEqual(back.state, m.state)
        XCTAssertEqual(back.masks, m.masks)
        XCTAssertEqual(back.provenance, m.provenance)
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
        try writeOld(fresh, initializer: "xavier", to: "old.safetensors")
        let old = try Model.load(from: path("old.safetensors"))
        XCTAssertEqual(old.architecture, fresh.architecture)
        XCTAssertEqual(old.architecture.name, .lenet300)
        XCTAssertEqual(old.architecture.initializer, .xavier)
        XCTAssertEqual(old.state, fresh.state)
        XCTAssertEqual(old.provenance.methodName, "magnitude")
        try writeOld(fresh, initializer: "orthogonal", to: "unknown.safetensors")
        XCTAssertThrowsError(try Model.load(from: path("unknown.safetensors"))) { error in
            XCTAssertTrue("\(error)".contains("orthogonal"), "\(error)")
        }
    }

    /// prn 0.1's provenance strings — `none` for no ablation, no `method` for a dense model,
    /// chains joined by `+` — load into the typed provenance and print in today's vocabulary;
    /// a value prn does not know, or a pruned model missing its record, is an error.
    func testProvenanceOfPrn01Loads() throws {
        let fresh = try Model(Architecture(name: .lenet300, inputShape: [1, 28, 28], classes: 10, initializer: .xavier), seed: 3)
        let pruned = #""density":"0.1","init_seed":"3","invert":"false","method":"magnitude","prune_seed":"1","rounds":"1","scope":"global","sparsity":"0.9""#
        func load(_ provenance: String) throws -> ModelProvenance {
            try writeOld(fresh, initializer: "xavier", provenance: provenance, to: "p.safetensors")
            return try Model.load(from: path("p.safetensors")).provenance
        }
        let dense = try load(#"{"init_seed":"3"}"#)
        XCTAssertEqual(dense, ModelProvenance(initSeed: 3))
        XCTAssertEqual([dense.methodName, dense.ablationName], ["dense", "original"])
        let original = try load("{\(pruned),\"ablation\":\"none\"}")
        XCTAssertEqual(original, ModelProvenance(initSeed: 3, pruning: .init(method: .magnitude, density: 0.1, sparsity: 0.9,
                                                                              scope: .global, seed: 1, rounds: 1)))
        XCTAssertEqual([original.methodName, original.ablationName], ["magnitude", "original"])
        let chained = try load("{\(pruned),\"ablation\":\"shuffle+reinit\",\"ablation_seed\":\"4+5\",\"rewound\":\"true\"}")
        XCTAssertEqual(chained.ablations, [.init(.shuffle, seed: 4), .init(.reinit, seed: 5)])
        XCTAssertEqual(chained.ablationName, "shuffle+reinit")
        XCTAssertTrue(chained.rewound)
        // Written back, the same strings (less the `none`), so prn 0.1 reads today's files too.
        let written = try JSONSerialization.jsonObject(with: JSONEncoder().encode(chained)) as? [String: String]
        let read = try JSONSerialization.jsonObject(
            with: Data("{\(pruned),\"ablation\":\"shuffle+reinit\",\"ablation_seed\":\"4+5\",\"rewound\":\"true\"}".utf8)) as? [String: String]
        XCTAssertEqual(written, read)
        for (bad, named) in [("{\(pruned.replacingOccurrences(of: "magnitude", with: "hessian"))}", "hessian"),
                             (#"{"method":"snip","init_seed":"3"}"#, "density"),
                             ("{\(pruned),\"ablation\":\"shuffle+reinit\",\"ablation_seed\":\"4\"}", "ablation_seed")] {
            XCTAssertThrowsError(try load(bad), bad) { error in
                XCTAssertTrue("\(error)".contains("provenance") && "\(error)".contains(named), "\(error)")
            }
        }
    }

    /// A checkpoint as prn 0.1 wrote it: architecture and provenance strings of that version.
    private func writeOld(_ model: Model, initializer: String,
                          provenance: String = #"{"ablation":"none","density":"0.1","init_seed":"3","invert":"false","method":"magnitude","prune_seed":"1","rounds":"1","scope":"global","sparsity":"0.9"}"#,
                          to file: String) throws {
        let architecture = #"{"classes":10,"hidden":[],"initializer":"\#(initializer)","inputShape":[1,28,28],"name":"lenet300","width":1}"#
        let metadata = ["format": "prn", "architecture": architecture, "provenance": provenance]
        try AtomicFile.write(try SafeTensors.encode(model.state.mapValues { .f32($0) }, metadata: metadata), to: path(file))
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
