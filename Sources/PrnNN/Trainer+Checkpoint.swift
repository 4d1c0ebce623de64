import Foundation
import PrnKernel
import PrnFiles
import PrnData

/// Where training is at the end of an epoch: everything needed to go on exactly as if it had
/// never stopped — the parameters and buffers, the optimizer's moments and step count, and the
/// epochs done (the data order of epoch e depends only on the seed and e, so that is the whole
/// position in the data), and the `keep=` snapshots taken so far, which a resumed training could
/// not take again.
public struct TrainState {
    public var state: [String: Tensor]
    public var optimizerState: [String: [[Float]]]
    public var optimizerSteps: Int
    public var history: [EpochRecord]
    /// The parameters and buffers at each kept epoch reached so far.
    public var snapshots: [Int: [String: Tensor]] = [:]
    public var epochsDone: Int { history.count }
}

/// Checkpoints of one training (`train … checkpoint="dir"`): after each epoch the state is saved
/// atomically to `dir/checkpoint.safetensors`; a training given the same folder that finds a
/// checkpoint of itself there resumes after its last finished epoch and ends bit-identical to an
/// uninterrupted run. "Itself" is a fingerprint of the starting model, the data and the
/// configuration; a checkpoint of another training is ignored and overwritten.
public struct TrainCheckpoint {
    public let directory: String
    public let fingerprint: String

    public init(directory: String, model: Model, data: Dataset, config: TrainConfig) {
        self.directory = directory
        var hash = FNV1a()
        for path in model.state.keys.sorted() {
            hash.add(path)
            model.state[path]!.scalars.forEach { hash.add($0.bitPattern) }
        }
        for path in model.masks.keys.sorted() {
            hash.add(path)
            model.masks[path]!.scalars.forEach { hash.add($0.bitPattern) }
        }
        hash.add("\(data.name) \(data.checksum) \(data.train.count) \(data.test.count)")
        hash.add("\(config)")
        fingerprint = String(hash.value, radix: 16)
    }

    public var path: String { (directory as NSString).appendingPathComponent("checkpoint.safetensors") }

    /// The saved state, when the folder holds a checkpoint of this training.
    public func load() throws -> TrainState? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let (entries, metadata) = try SafeTensors.decode(try SafeTensors.read(path), path: path)
        guard metadata["format"] == "prn-train-checkpoint", metadata["fingerprint"] == fingerprint,
              let steps = metadata["optimizer_steps"].flatMap(Int.init),
              let history = metadata["history"].flatMap(Self.history) else { return nil }
        var state: [String: Tensor] = [:]
        var moments: [String: [(Int, [Float])]] = [:]
        var snapshots: [Int: [String: Tensor]] = [:]
        for (name, entry) in entries {
            guard case .f32(let tensor) = entry else { continue }
            if name.hasPrefix("model.") {
                state[String(name.dropFirst(6))] = tensor
            } else if let (epoch, path) = Self.snapshotEntry(name) {
                snapshots[epoch, default: [:]][path] = tensor
            } else if name.hasPrefix("optimizer."), let dot = name.lastIndex(of: "."), let index = Int(name[name.index(after: dot)...]) {
                let parameter = String(name[name.index(name.startIndex, offsetBy: 10)..<dot])
                moments[parameter, default: []].append((index, tensor.scalars))
            }
        }
        return TrainState(state: state,
                          optimizerState: moments.mapValues { $0.sorted { $0.0 < $1.0 }.map(\.1) },
                          optimizerSteps: steps, history: history, snapshots: snapshots)
    }

    /// "snapshot.EPOCH.PATH" split into its epoch and parameter path.
    private static func snapshotEntry(_ name: String) -> (Int, String)? {
        let parts = name.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[0] == "snapshot", let epoch = Int(parts[1]) else { return nil }
        return (epoch, String(parts[2]))
    }

    /// Saves the state at the end of an epoch, atomically.
    public func save(_ training: TrainState) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var entries: [String: SafeTensors.Entry] = [:]
        for (name, tensor) in training.state { entries["model." + name] = .f32(tensor) }
        for (epoch, state) in training.snapshots {
            for (name, tensor) in state { entries["snapshot.\(epoch).\(name)"] = .f32(tensor) }
        }
        for (parameter, buffers) in training.optimizerState {
            for (index, buffer) in buffers.enumerated() {
                entries["optimizer.\(parameter).\(index)"] = .f32(Tensor(shape: [buffer.count], scalars: buffer))
            }
        }
        let metadata = ["format": "prn-train-checkpoint", "fingerprint": fingerprint,
                        "optimizer_steps": String(training.optimizerSteps),
                        "history": training.history.map(Self.line).joined(separator: "\n")]
        try AtomicFile.write(try SafeTensors.encode(entries, metadata: metadata), to: path)
    }

    /// An epoch's record as hexadecimal bit patterns, so it reads back exactly.
    private static func line(_ record: EpochRecord) -> String {
        [UInt64(record.epoch), UInt64(record.learningRate.bitPattern), record.trainLoss.bitPattern,
         record.trainAccuracy.bitPattern, record.testLoss.bitPattern, record.testAccuracy.bitPattern, record.seconds.bitPattern]
            .map { String($0, radix: 16) }.joined(separator: " ")
    }

    private static func history(_ text: String) -> [EpochRecord]? {
        var records: [EpochRecord] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ").compactMap { UInt64($0, radix: 16) }
            guard fields.count == 7 else { return nil }
            records.append(EpochRecord(epoch: Int(fields[0]), learningRate: Float(bitPattern: UInt32(truncatingIfNeeded: fields[1])),
                                       trainLoss: Double(bitPattern: fields[2]), trainAccuracy: Double(bitPattern: fields[3]),
                                       testLoss: Double(bitPattern: fields[4]), testAccuracy: Double(bitPattern: fields[5]),
                                       seconds: Double(bitPattern: fields[6])))
        }
        return records
    }
}

extension Optimizer {
    /// The moments as plain buffers, by parameter path.
    var savedState: [String: [[Float]]] { state.mapValues(\.buffers) }

    /// Puts saved moments and the step count back.
    mutating func restore(_ saved: [String: [[Float]]], steps: Int) {
        state = saved.mapValues { buffers in
            let moments = Moments(count: 0, size: 0)
            moments.buffers = buffers
            return moments
        }
        self.steps = steps
    }
}

/// 64-bit FNV-1a, for fingerprints.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ word: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { add(byte: UInt8(truncatingIfNeeded: word >> UInt32(shift))) }
    }

    mutating func add(_ text: String) {
        text.utf8.forEach { add(byte: $0) }
        add(byte: 0)
    }

    private mutating func add(byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x100_0000_01b3
    }
}
