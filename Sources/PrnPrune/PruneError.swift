/// A pruning request that cannot be carried out, reported to the user as one line: missing or
/// mismatched scoring data, an impossible target, a model without masks for an ablation, scores
/// that overflowed Float32, or a stop request.
public struct PruneError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The whole one-line message.
    public let description: String

    public init(_ message: String) { description = message }
}
