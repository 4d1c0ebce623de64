import PrnKernel
import PrnAutograd

/// A building block of a network: its own named parameters and buffers, its named children, and
/// a forward function. Layers hold structure only — no tensors — so one layer tree is shared by
/// every copy of a model; the tensors live in the model's `State`, keyed by dotted paths
/// (`fc1.weight`). Layers write no backward code: the forward is composed of autograd ops.
public protocol Layer: AnyObject {
    /// Parameters and buffers this layer owns directly, by local name.
    var slots: [Slot] { get }
    /// Child layers, in forward order, by local name.
    var children: [(name: String, layer: Layer)] { get }
    /// The forward pass. `scope` resolves this layer's slots to tensors.
    func forward(_ x: Variable, _ scope: Scope) -> Variable
}

extension Layer {
    public var slots: [Slot] { [] }
    public var children: [(name: String, layer: Layer)] { [] }

    /// Every slot of this layer and its descendants with its full dotted path, in a fixed order
    /// (own slots first, then children in order). This is the one place parameters are enumerated.
    public func namedSlots(prefix: String = "") -> [(path: String, slot: Slot)] {
        var result = slots.map { (path: prefix + $0.name, slot: $0) }
        for child in children {
            result += child.layer.namedSlots(prefix: prefix + child.name + ".")
        }
        return result
    }
}

/// A layer that can apply a ReLU following it itself, as one fused node with the same numbers
/// as the layer and then `relu()` (`Sequential` uses it): one activation fewer kept for the
/// backward and one pass fewer.
public protocol ReLUFusing: Layer {
    /// The forward, followed by a ReLU when `relu`.
    func forward(_ x: Variable, _ scope: Scope, relu: Bool) -> Variable
}

/// A named tensor a layer owns: a trainable parameter (optionally prunable) or a buffer such as
/// batch norm's running mean.
public struct Slot {
    public enum Kind: Equatable {
        /// Trained by the optimizer. Prunable slots (conv and linear weights) carry a mask.
        case parameter(prunable: Bool)
        /// State updated by the forward pass in training mode, not by gradients.
        case buffer
    }

    public let name: String
    public let shape: [Int]
    public let kind: Kind
    /// How fresh values are drawn; `fanIn` is the number of inputs feeding one output unit.
    public let initializer: Initializer.Role
    public let fanIn: Int

    public init(_ name: String, _ shape: [Int], _ kind: Kind, initializer: Initializer.Role, fanIn: Int) {
        self.name = name
        self.shape = shape
        self.kind = kind
        self.initializer = initializer
        self.fanIn = fanIn
    }

    public var isPrunable: Bool { kind == .parameter(prunable: true) }
    public var isParameter: Bool { if case .parameter = kind { return true } else { return false } }
}

/// What a forward pass reads and writes: the variables bound to parameters (masked for prunable
/// weights), buffers, the train/eval mode, and buffer updates made in training mode.
public final class ForwardContext {
    public let training: Bool
    var values: [String: Variable]
    /// New buffer values produced by this pass (batch norm running statistics in training mode).
    public private(set) var bufferUpdates: [String: Tensor] = [:]

    /// Prunable weights that run sparse, by path.
    let sparse: [String: SparseWeight]
    /// The model's input and its transpose `[features, B]` (of the input flattened to
    /// `[B, features]`), when the caller made one (`Model.forward`): a first layer that runs
    /// sparse and fully connected computes on its batch feature-major, and training makes that
    /// copy beside the previous step, off the thread that runs the steps (`Batches.Iterator`).
    let inputFeatureMajor: (input: Tensor, transposed: Tensor)?

    public init(values: [String: Variable], sparse: [String: SparseWeight] = [:], training: Bool,
                inputFeatureMajor: (input: Tensor, transposed: Tensor)? = nil) {
        self.values = values
        self.sparse = sparse
        self.training = training
        self.inputFeatureMajor = inputFeatureMajor
    }

    /// The model input's transpose, when `x` is that input flattened to `[B, features]` (the
    /// same buffer: a reshape shares it, and an array's buffer never changes while it is
    /// shared, so the same buffer means the same values).
    func featureMajor(of x: Tensor) -> Tensor? {
        guard let (input, transposed) = inputFeatureMajor, x.rank == 2, x.count == input.count,
              transposed.shape == [x.shape[1], x.shape[0]] else { return nil }
        let same = x.scalars.withUnsafeBufferPointer { a in input.scalars.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
        return same ? transposed : nil
    }

    func value(_ path: String) -> Variable {
        if let s = sparse[path] { return s.masked }
        guard let v = values[path] else { preconditionFailure("no tensor bound to \(path)") }
        return v
    }

    func update(_ path: String, _ tensor: Tensor) { bufferUpdates[path] = tensor }
}

/// A layer's view of the context: its own path prefix.
public struct Scope {
    public let context: ForwardContext
    public let prefix: String

    public var training: Bool { context.training }

    /// The tensor bound to this layer's slot `name` (for prunable weights, `mask ⊙ weight`).
    public subscript(_ name: String) -> Variable { context.value(prefix + name) }

    /// The weight `name` with its topology when it runs sparse: then the layer computes with the
    /// sparse ops, which read only the kept entries of the (unmasked) parameter.
    public func sparse(_ name: String) -> SparseWeight? { context.sparse[prefix + name] }

    /// The scope of a child layer.
    public func child(_ name: String) -> Scope { Scope(context: context, prefix: prefix + name + ".") }

    /// Records a new value for this layer's buffer `name`.
    public func update(_ name: String, _ tensor: Tensor) { context.update(prefix + name, tensor) }
}

/// A masked weight that runs sparse: the parameter as bound (unmasked and dense, or compact:
/// its kept values only), its mask, and the mask's topology.
public struct SparseWeight {
    public let parameter: Variable
    public let mask: Tensor
    public let topology: SparseTopology

    /// `mask ⊙ parameter` as a dense weight, for code that needs the dense form (a convolution
    /// whose dense algorithm beats the sparse kernels, `SparseSelection.convolutionRunsSparse`):
    /// a compact parameter is scattered among zeros, and its gradient comes back compact.
    public var masked: Variable {
        topology.isCompact(parameter.shape) ? parameter.sparseExpanded(topology) : parameter * Variable(mask)
    }
}
