import PrnKernel
import PrnAutograd

/// What a model is, in enough detail to rebuild its layer tree: stored in checkpoints and shown
/// by `vars`.
public struct Architecture: Codable, Equatable, Sendable {
    /// The zoo family.
    public var name: Zoo
    /// One example's shape, e.g. `[1, 28, 28]`.
    public var inputShape: [Int]
    public var classes: Int
    /// Channel/width multiplier.
    public var width: Double
    /// Hidden widths for `mlp`.
    public var hidden: [Int]
    public var initializer: Initializer

    public init(name: Zoo, inputShape: [Int], classes: Int, width: Double = 1, hidden: [Int] = [],
                initializer: Initializer = .kaimingNormal) {
        self.name = name
        self.inputShape = inputShape
        self.classes = classes
        self.width = width
        self.hidden = hidden
        self.initializer = initializer
    }
}

/// A network value: its architecture, the shared layer tree, and the tensors — parameters,
/// buffers and masks — by dotted path. Values are immutable in prn: every operation returns a new
/// `Model`, and copying one copies only dictionary entries (tensors are copy-on-write).
public struct Model {
    public let architecture: Architecture
    public let network: Layer
    /// Every slot with its path, in the network's fixed order. Enumerated once when the model is
    /// built, not on every forward pass; copies share it.
    public let slots: [(path: String, slot: Slot)]
    /// Parameters and buffers by path (`fc1.weight`, `bn1.running_mean`).
    public internal(set) var state: [String: Tensor]
    /// 0/1 masks of prunable weights, by the weight's path; absent means dense.
    public internal(set) var masks: [String: Tensor] { didSet { sparseForms = SparseForms() } }
    /// The masks' sparse topologies, built when a forward pass first runs a layer sparse.
    var sparseForms = SparseForms()
    /// Where this value came from: its seeds, pruning and ablations, for tables and checkpoints.
    public var provenance: ModelProvenance

    /// A freshly initialized model.
    public init(_ architecture: Architecture, seed: UInt64) throws {
        let network = try architecture.name.build(architecture)
        self.architecture = architecture
        self.network = network
        self.slots = network.namedSlots()
        self.state = [:]
        self.masks = [:]
        self.provenance = ModelProvenance(initSeed: seed)
        self.state = freshState(seed: seed)
    }

    /// A model from existing tensors (checkpoints); every slot must be present with its shape.
    public init(_ architecture: Architecture, state: [String: Tensor], masks: [String: Tensor],
                provenance: ModelProvenance) throws {
        self.architecture = architecture
        self.network = try architecture.name.build(architecture)
        self.slots = network.namedSlots()
        self.state = state
        self.masks = masks
        self.provenance = provenance
        for (path, slot) in slots {
            guard let t = state[path] else { throw ShapeError("missing tensor \(path)") }
            guard t.shape == slot.shape else { throw ShapeError("\(path) has shape \(t.shape), expected \(slot.shape)") }
            if let m = masks[path] {
                guard slot.isPrunable, m.shape == slot.shape else { throw ShapeError("bad mask for \(path)") }
            }
        }
    }

    /// Paths of the prunable weights, in order.
    public var prunablePaths: [String] { slots.filter { $0.slot.isPrunable }.map(\.path) }

    /// Paths of the trainable parameters, in order.
    public var parameterPaths: [String] { slots.filter { $0.slot.isParameter }.map(\.path) }

    /// Freshly drawn tensors for every slot; slot i draws from its own sub-stream of `seed`'s
    /// initial-weights stream.
    public func freshState(seed: UInt64) -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        let base = RNG(seed: seed, purpose: .initialWeights)
        for (i, entry) in slots.enumerated() {
            var rng = base.split(UInt64(i))
            result[entry.path] = architecture.initializer.sample(entry.slot, rng: &rng)
        }
        return result
    }

    /// The same masks over fresh weights from the model's own initializer (the `reinit` ablation);
    /// the provenance's init seed becomes `seed`, the seed of the weights it now has.
    public func reinitialized(seed: UInt64) -> Model {
        var copy = self
        copy.state = freshState(seed: seed)
        copy.provenance.initSeed = seed
        return copy
    }

    /// A copy with `masks` replacing the current ones.
    public func withMasks(_ masks: [String: Tensor]) -> Model {
        var copy = self
        copy.masks = masks
        return copy
    }

    /// A copy with some tensors replaced.
    public func updating(_ tensors: [String: Tensor]) -> Model {
        var copy = self
        for (path, t) in tensors { copy.state[path] = t }
        return copy
    }

    /// The weight as the network sees it: `mask ⊙ weight`.
    public func effectiveWeight(_ path: String) -> Tensor {
        guard let w = state[path] else { preconditionFailure("no tensor \(path)") }
        return masks[path].map { w * $0 } ?? w
    }

    /// Runs the network. `parameters` binds leaves (for gradients) in place of stored tensors;
    /// prunable weights are multiplied by their masks here, so every forward sees `mask ⊙ w` and
    /// pruned entries get zero gradient — or, for layers that run sparse (`SparseMode`), handed
    /// to the layer with their topology, whose sparse products read only the kept entries.
    /// `inputFeatureMajor`, when the caller has it, is `x` flattened to `[B, features]` and
    /// transposed: a first layer that runs sparse and fully connected (`readsInputFeatureMajor`)
    /// takes it instead of transposing `x` itself.
    public func forward(_ x: Variable, parameters: [String: Variable] = [:], training: Bool,
                        inputFeatureMajor: Tensor? = nil) -> (output: Variable, context: ForwardContext) {
        var values: [String: Variable] = [:], sparse: [String: SparseWeight] = [:]
        for (path, slot) in slots {
            let leaf = parameters[path] ?? Variable(state[path]!)
            if slot.isPrunable, let mask = masks[path] {
                if let topology = sparseForms.chosen(path, mask: mask) {
                    sparse[path] = SparseWeight(parameter: leaf, mask: mask, topology: topology)
                } else {
                    values[path] = leaf * Variable(mask)
                }
            } else {
                values[path] = leaf
            }
        }
        let context = ForwardContext(values: values, sparse: sparse, training: training,
                                     inputFeatureMajor: inputFeatureMajor.map { (x.value, $0) })
        let output = network.forward(x, Scope(context: context, prefix: ""))
        return (output, context)
    }

    /// The topology of the masked weight at `path` when it runs sparse under the current mode
    /// (`SparseMode`); `forward` then also accepts it bound compact (`SparseTopology.compact`).
    func sparseTopology(_ path: String) -> SparseTopology? {
        masks[path].flatMap { sparseForms.chosen(path, mask: $0) }
    }

    /// Logits for a batch in eval mode, with no tape.
    public func predict(_ x: Tensor) -> Tensor {
        GradMode.with(enabled: false) { forward(Variable(x), training: false).output.value }
    }

    /// Number of trainable scalars, and of prunable ones still unmasked.
    public var parameterCount: Int { parameterPaths.reduce(0) { $0 + state[$1]!.count } }
    public var prunableCount: Int { prunablePaths.reduce(0) { $0 + state[$1]!.count } }
    public var unprunedCount: Int {
        prunablePaths.reduce(0) { total, path in
            total + (masks[path].map { Int($0.sum().item) } ?? state[path]!.count)
        }
    }
}
