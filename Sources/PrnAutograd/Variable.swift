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
    /// `backward` for an output gradient given as two parts `a + b`, with no graph recorded:
    /// a node whose kernel reads its gradient once (batch norm) adds the parts as it reads
    /// them, so `grad` does not write their sum out first (a residual block's input gets its
    /// gradient from the block's body and from the skip). Nil: `grad` adds them itself.
    private(set) var backwardOfSum: ((Tensor, Tensor) -> [Variable?])?

    /// A leaf. Parameters set `requiresGrad`; data and constants do not.
    public init(_ value: Tensor, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.inputs = []
        self.backward = nil
        self.backwardOfSum = nil
    }

    init(value: Tensor, inputs: [Variable], backward: @escaping (Variable) -> [Variable?],
         backwardOfSum: ((Tensor, Tensor) -> [Variable?])?) {
        self.value = value
        self.requiresGrad = true
        self.inputs = inputs
        self.backward = backward
        self.backwardOfSum = backwardOfSum
    }

    /// The result of an op: recorded on the tape only when recording is on and an input needs a
    /// gradient, so inference and a plain optimizer step build no graph.
    static func record(_ value: Tensor, _ inputs: [Variable], backwardOfSum: ((Tensor, Tensor) -> [Variable?])? = nil,
                       backward: @escaping (Variable) -> [Variable?]) -> Variable {
        if GradMode.isEnabled && inputs.contains(where: { $0.requiresGrad }) {
            return Variable(value: value, inputs: inputs, backward: backward, backwardOfSum: backwardOfSum)
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
        cutFromGraph()
        while var node = pending.popLast() {
            if isKnownUniquelyReferenced(&node) {
                pending.append(contentsOf: node.inputs)
                node.cutFromGraph()
            }
        }
    }

    /// The same value, cut from the graph.
    public func detached() -> Variable { Variable(value) }

    /// Drops the edges to this node's inputs and its backward rules (with the tensors they hold).
    func cutFromGraph() {
        inputs = []
        backward = nil
        backwardOfSum = nil
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
    // The last part of a gradient, not yet added to `grads`, for nodes with `backwardOfSum`
    // (without a recorded graph, and not asked for): `grads[key] + addends[key]` in that order,
    // the order in which the parts arrived, as the eager sum would add them.
    var addends: [ObjectIdentifier: Tensor] = [:]
    grads[ObjectIdentifier(output)] = seed ?? Variable(Tensor.ones(output.shape))
    GradMode.with(enabled: createGraph) {
        while let node = order.popLast() {
            defer { if release { node.cutFromGraph() } }
            let id = ObjectIdentifier(node)
            guard let backward = node.backward, let upstream = grads[id] else { continue }
            // Every consumer of a node comes before it in this order, so its gradient is complete
            // now; unless asked for, it is dropped once used, so the backward pass holds only the
            // gradients still to be propagated rather than one per node.
            if !wanted.contains(id) { grads[id] = nil }
            let addend = addends.removeValue(forKey: id)
            let local = addend.map { node.backwardOfSum!(upstream.value, $0) } ?? backward(upstream)
            for (input, g) in zip(node.inputs, local) {
                guard input.requiresGrad, let g else { continue }
                let key = ObjectIdentifier(input)
                guard let sum = grads[key] else {
                    grads[key] = g
                    continue
                }
                guard !createGraph && input.backwardOfSum != nil && !wanted.contains(key) else {
                    grads[key] = sum + g
                    continue
                }
                if let earlier = addends[key] { grads[key] = Variable(sum.value + earlier) }
                addends[key] = g.value
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
