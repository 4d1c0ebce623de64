import Foundation
import PrnKernel
import PrnFiles

/// The safetensors file format: an 8-byte little-endian header length, a JSON header mapping
/// each tensor name to `{dtype, shape, data_offsets}` (plus a flat string→string `__metadata__`),
/// then the raw little-endian data. prn writes `F32` tensors and `U8` masks.
public enum SafeTensors {
    /// A tensor as stored: Float32 values, or 0/1 bytes for masks.
    public enum Entry: Equatable {
        case f32(Tensor)
        case u8(shape: [Int], bytes: [UInt8])

        var dtype: String { if case .f32 = self { return "F32" } else { return "U8" } }
        var shape: [Int] {
            switch self {
            case .f32(let t): return t.shape
            case .u8(let shape, _): return shape
            }
        }
        var byteCount: Int {
            switch self {
            case .f32(let t): return t.count * 4
            case .u8(_, let bytes): return bytes.count
            }
        }
    }

    /// A failure to read or write a file, naming the file.
    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
        init(_ path: String, _ message: String) { description = "\((path as NSString).lastPathComponent): \(message)" }
    }

    /// The largest header prn accepts, as the reference implementation does (100 MB).
    static let maxHeader = 100_000_000

    /// Encodes tensors (in name order) and metadata.
    public static func encode(_ tensors: [String: Entry], metadata: [String: String]) throws -> Data {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let entry = tensors[name]!
            header[name] = ["dtype": entry.dtype, "shape": entry.shape, "data_offsets": [offset, offset + entry.byteCount]]
            offset += entry.byteCount
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        while (json.count % 8) != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            switch tensors[name]! {
            case .f32(let t): t.scalars.withUnsafeBytes { out.append(contentsOf: $0) }
            case .u8(_, let bytes): out.append(contentsOf: bytes)
            }
        }
        return out
    }

    /// Decodes and validates a file's bytes: header length, JSON, dtypes, shapes, byte ranges.
    public static func decode(_ data: Data, path: String) throws -> (tensors: [String: Entry], metadata: [String: String]) {
        guard data.count >= 8 else { throw FormatError(path, "too short for a safetensors header (\(data.count) bytes)") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(min(maxHeader, data.count - 8)) else {
            throw FormatError(path, "header length \(headerLength) exceeds the file (\(data.count) bytes)")
        }
        let dataStart = 8 + Int(headerLength)
        let headerData = data.subdata(in: 8..<dataStart)
        guard let object = try? JSONSerialization.jsonObject(with: headerData), let header = object as? [String: Any] else {
            throw FormatError(path, "header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var tensors: [String: Entry] = [:]
        let payload = data.count - dataStart
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw FormatError(path, "__metadata__ is not a string map") }
                metadata = m
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = (info["shape"] as? [NSNumber])?.map(\.intValue),
                  let offsets = (info["data_offsets"] as? [NSNumber])?.map(\.intValue), offsets.count == 2 else {
                throw FormatError(path, "tensor '\(name)': malformed entry")
            }
            let elementSize: Int
            switch dtype {
            case "F32": elementSize = 4
            case "U8", "BOOL": elementSize = 1
            default: throw FormatError(path, "tensor '\(name)': unsupported dtype \(dtype) (prn reads F32 and U8)")
            }
            guard let count = try? Shape.checkedCount(shape) else { throw FormatError(path, "tensor '\(name)': bad shape \(shape)") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= payload else {
                throw FormatError(path, "tensor '\(name)': byte range \(begin)..<\(end) outside the data (\(payload) bytes); truncated?")
            }
            guard end - begin == count * elementSize else {
                throw FormatError(path, "tensor '\(name)': \(end - begin) bytes for shape \(shape) of \(dtype)")
            }
            let bytes = data.subdata(in: (dataStart + begin)..<(dataStart + end))
            if elementSize == 4 {
                let scalars = bytes.withUnsafeBytes { raw in
                    (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                }
                tensors[name] = .f32(Tensor(shape: shape, scalars: scalars))
            } else {
                tensors[name] = .u8(shape: shape, bytes: [UInt8](bytes))
            }
        }
        return (tensors, metadata)
    }

    public static func read(_ path: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else { throw FormatError(path, "no such file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw FormatError(path, "cannot read") }
        return data
    }
}

/// Checkpoints: a model's parameters, buffers and masks in safetensors, with the architecture
/// and provenance as JSON strings in `__metadata__`. Names follow PyTorch (`fc1.weight`), and a
/// mask sits beside its weight as `fc1.weight_mask` (U8), the `torch.nn.utils.prune` convention.
extension Model {
    public func save(to path: String) throws {
        var entries: [String: SafeTensors.Entry] = [:]
        for (name, t) in state { entries[name] = .f32(t) }
        for (name, m) in masks { entries[name + "_mask"] = .u8(shape: m.shape, bytes: m.scalars.map { $0 != 0 ? 1 : 0 }) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let metadata = [
            "format": "prn",
            "architecture": String(decoding: try encoder.encode(architecture), as: UTF8.self),
            "provenance": String(decoding: try encoder.encode(provenance), as: UTF8.self),
        ]
        try AtomicFile.write(try SafeTensors.encode(entries, metadata: metadata), to: path)
    }

    public static func load(from path: String) throws -> Model {
        let (entries, metadata) = try SafeTensors.decode(try SafeTensors.read(path), path: path)
        guard let archText = metadata["architecture"] else {
            throw SafeTensors.FormatError(path, "no prn architecture in __metadata__ (not a prn checkpoint?)")
        }
        let architecture: Architecture
        do {
            architecture = try JSONDecoder().decode(Architecture.self, from: Data(archText.utf8))
        } catch let error as DecodingError {
            throw SafeTensors.FormatError(path, "architecture \(archText): \(error.reason)")
        }
        var provenance = ModelProvenance()
        if let text = metadata["provenance"] {
            do {
                provenance = try JSONDecoder().decode(ModelProvenance.self, from: Data(text.utf8))
            } catch let error as DecodingError {
                throw SafeTensors.FormatError(path, "provenance: \(error.reason)")
            }
        }
        var state: [String: Tensor] = [:], masks: [String: Tensor] = [:]
        for (name, entry) in entries {
            switch entry {
            case .f32(let t): state[name] = t
            case .u8(let shape, let bytes) where name.hasSuffix("_mask"):
                masks[String(name.dropLast(5))] = Tensor(shape: shape, scalars: bytes.map { $0 != 0 ? 1 : 0 })
            case .u8:
                throw SafeTensors.FormatError(path, "unexpected U8 tensor '\(name)'")
            }
        }
        do {
            return try Model(architecture, state: state, masks: masks, provenance: provenance)
        } catch {
            throw SafeTensors.FormatError(path, "\(error)")
        }
    }
}

extension DecodingError {
    /// What is wrong, without the coding-path dump (`Cannot initialize Zoo from invalid String value lenet7`).
    var reason: String {
        switch self {
        case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context),
             .valueNotFound(_, let context):
            return context.debugDescription
        @unknown default:
            return "\(self)"
        }
    }
}
