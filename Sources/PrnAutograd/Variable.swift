import PrnKernel

/// A node of the reverse-mode tape: a tensor value, the inputs it was computed from, and the
/// rule that maps the gradient of the output to gradients of those inputs.
///
/// Each primitive op (see `Variable+Ops.swift`) writes its forward result and its backward rule
/// side by side, as micrograd does. Backward rules are themselves written with `Variable` ops,
/// so when `grad(of:wrt:createGraph: true)` runs them with recording on, the gradients are new
/// nodes of the graph and can be differentiated again (the Hessian–vector products GraSP needs).
///
/// ```swift
/// let w = Variable(Tensor.randn([3, 2], seed: 1), requiresGrad: true)
/// let loss = (x.matmul(w)).relu().sum()
/// let [g] = grad(of: loss, wrt: [w])
/// ```
public final class Variable {
    public let value: Tensor
    /// True for leaves that ask for gradients and for every node computed from one while recording.
    public let requiresGrad: Bool
    private(set) var inputs: [Variable]
    /// Maps the output gradient to one gradient per input (nil where an input needs none).
    private(set) var backward: ((Variable) -> [Variable?])?

    /// A leaf. Parameters set `requiresGrad`; data and constants do not.
    public init(_ value: Tensor, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.inputs = []
        self.backward = nil
    }

    init(value: Tensor, inputs: [Variable], backward: @escaping (Variable) -> [Variable?]) {
        self.value = value
        self.requiresGrad = true
        self.inputs = inputs
        self.backward = backward
    }

    /// The result of an op: recorded on the tape only when recording is on and an input needs a
    /// gradient, so inference and a plain optimizer step build no graph.
    static func record(_ value: Tensor, _ inputs: [Variable], backward: @escaping (Variable) -> [Variable?]) -> Variable {
        if GradMode.isEnabled && inputs.contains(where: { $0.requiresGrad }) {
            return Variable(value: value, inputs: inputs, backward: backward)
        }
        return Variable(value)
    }

    public var shape: [Int] { value.shape }

    /// Releases a long chain of nodes iteratively: the default recursive release of `inputs`
    /// would overflow the stack on a graph 100,000 nodes deep. Backward closures capture only
    /// their node's inputs, so emptying both cuts every strong edge.
    deinit {
        guard !inputs.isEmpty else { return }
        var pending = inputs
        inputs = []
        backward = nil
        while var node = pending.popLast() {
            if isKnownUniquelyReferenced(&node) {
                pending.append(contentsOf: node.inputs)
                node.inputs = []
                node.backward = nil
            }
        }
    }

    /// The same value, cut from the graph.
    public func detached() -> Variable { Variable(value) }

    /// Drops the edges to this node's inputs and its backward rule (with the tensors it holds).
    func cutFromGraph() {
        inputs = []
        backward = nil
    }
}

/// Whether ops record themselves on the tape.
public enum GradMode {
    public nonisolated(unsafe) static var isEnabled = true

    /// Runs `body` with recording set to `enabled`, restoring the previous setting after.
    public static func with<T>(enabled: Bool, _ body: () throws -> T) rethrows -> T {
        let saved = isEnabled
        isEnabled = enabled
        defer { isEnabled = saved }
        return try body()
    }
}

/// Gradients of `output` with respect to each of `inputs`.
///
/// `seed` is the gradient of the output (ones for a scalar output when nil). With `createGraph`,
/// the backward rules are recorded, so the returned gradients can be differentiated again;
/// without it, they are constants. Inputs the output does not depend on get zeros.
///
/// With `retainGraph: false` (and no `createGraph`), each node is cut from the graph once its
/// backward has run, so activations are freed during the backward pass instead of after it (as
/// PyTorch does by default); the graph cannot then be differentiated again.
public func grad(of output: Variable, wrt inputs: [Variable], seed: Variable? = nil,
                 createGraph: Bool = false, retainGraph: Bool = true) -> [Variable] {
    var order = topologicalOrder(from: output)
    let wanted = Set(inputs.map(ObjectIdentifier.init))
    let release = !retainGraph && !createGraph
    var grads: [ObjectIdentifier: Variable] = [:]
    grads[ObjectIdentifier(output)] = seed ?? Variable(Tensor.ones(output.shape))
    GradMode.with(enabled: createGraph) {
        while let node = order.popLast() {
            defer { if release { node.cutFromGraph() } }
            guard let backward = node.backward, let upstream = grads[ObjectIdentifier(node)] else { continue }
            // Every consumer of a node comes before it in this order, so its gradient is complete
            // now; unless asked for, it is dropped once used, so the backward pass holds only the
            // gradients still to be propagated rather than one per node.
            if !wanted.contains(ObjectIdentifier(node)) { grads[ObjectIdentifier(node)] = nil }
            let local = backward(upstream)
            for (input, g) in zip(node.inputs, local) {
                guard input.requiresGrad, let g else { continue }
                let key = ObjectIdentifier(input)
                grads[key] = grads[key].map { $0 + g } ?? g
            }
        }
    }
    return inputs.map { grads[ObjectIdentifier($0)] ?? Variable(Tensor.zeros($0.shape)) }
}

/// Nodes reachable from `root` that require gradients, inputs before outputs. Iterative, so deep
/// graphs cannot overflow the stack.
func topologicalOrder(from root: Variable) -> [Variable] {
    var order: [Variable] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(Variable, Int)] = [(root, 0)]
    visited.insert(ObjectIdentifier(root))
    while let (node, next) = stack.popLast() {
        if next < node.inputs.count {
            stack.append((node, next + 1))
            let child = node.inputs[next]
            if child.requiresGrad && visited.insert(ObjectIdentifier(child)).inserted {
                stack.append((child, 0))
            }
        } else {
            order.append(node)
        }
    }
    return order
}
