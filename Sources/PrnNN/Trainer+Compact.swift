import PrnKernel

/// The weights that run sparse during a training, carried from step to step as their kept values
/// only (`SparseTopology.compact`): a step binds them as they are, and the optimizer updates them
/// as plain parameters of one value per kept weight, beside their compact moments. Without them,
/// every step gathered each sparse weight out of its dense tensor to bind it, and the optimizer
/// gathered and scattered it again at the kept positions (9 % of a LeNet-300-100 step at
/// density 0.1).
///
/// The model's dense weights are brought up to date (`store(into:)`) whenever the training reads
/// the model: at the end of each epoch and when it stops early. Only the kept positions are
/// written, as the optimizer's update at the kept positions did, so every number is the same.
struct CompactWeights {
    /// The kept values of each weight that runs sparse, by path.
    private var values: [String: Tensor] = [:]
    private let topologies: [String: SparseTopology]
    /// The kept positions of the other masked weights (`Model.keptPositions`), where the
    /// optimizer updates them: built once, since a training never changes its masks.
    private let kept: [String: [Int32]]

    /// The weights of `model` that run sparse under the current mode, except any whose optimizer
    /// state `moments` holds dense buffers (a checkpoint written before moments were compact:
    /// those keep their update at the kept positions of the dense weight).
    init(_ model: Model, moments: [String: Moments]) {
        var topologies: [String: SparseTopology] = [:]
        for path in model.parameterPaths {
            guard let topology = model.sparseTopology(path) else { continue }
            if let buffers = moments[path]?.buffers, buffers.contains(where: { $0.count != topology.count }) { continue }
            topologies[path] = topology
            values[path] = topology.compact(model.state[path]!)
        }
        self.topologies = topologies
        kept = model.keptPositions.filter { topologies[$0.key] == nil }
    }

    /// The compact value of `path`, if it runs sparse.
    subscript(path: String) -> Tensor? { values[path] }

    /// One optimizer step over all parameters of `model`: the compact ones as parameters of their
    /// own, the other masked weights at their kept positions.
    mutating func step(_ optimizer: inout Optimizer, model: inout Model, gradients: [String: Tensor], learningRate: Float) {
        var dense: [String: Tensor] = [:]
        // The compact values stand in the model's state for the step, each held once, so the
        // update writes into its buffer.
        for path in topologies.keys {
            dense[path] = model.state.removeValue(forKey: path)
            model.state[path] = values.removeValue(forKey: path)
        }
        optimizer.step(&model.state, gradients: gradients, learningRate: learningRate, kept: kept)
        for path in topologies.keys {
            values[path] = model.state.removeValue(forKey: path)
            model.state[path] = dense.removeValue(forKey: path)
        }
    }

    /// Writes the compact values into `model`'s dense weights at their kept positions.
    func store(into model: inout Model) {
        for (path, topology) in topologies {
            var weight = model.state.removeValue(forKey: path)!
            let kept = values[path]!
            weight.scalars.withUnsafeMutableBufferPointer { w in
                kept.scalars.withUnsafeBufferPointer { v in
                    topology.positions.withUnsafeBufferPointer { at in
                        for e in 0..<at.count { w[Int(at[e])] = v[e] }
                    }
                }
            }
            model.state[path] = weight
        }
    }
}
