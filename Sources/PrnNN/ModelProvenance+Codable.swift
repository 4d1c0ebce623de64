import Foundation

/// In a checkpoint the provenance is a flat JSON object of strings — safetensors' `__metadata__`
/// holds strings, and outside readers see plain keys — with the keys prn 0.1 wrote: `init_seed`;
/// `method`, `density`, `sparsity`, `compression`, `scope`, `dense_first`, `last`, `linear_keep`,
/// `prune_seed`, `rounds`, `invert`, `samples` for a pruned model; `ablation` and
/// `ablation_seed` (each chained with `+`); `rewound`.
///
/// A dense model writes no `method` and an original one no `ablation`. Reading also takes what
/// prn 0.1 wrote for them (`ablation` `none`); a value prn does not know, or a pruned model
/// without its density, scope, seed or rounds, is an error, never a default.
extension ModelProvenance: Codable {
    public init(from decoder: Decoder) throws {
        let fields = try decoder.singleValueContainer().decode([String: String].self)
        do {
            try self.init(fields: Fields(fields))
        } catch let message as Fields.Problem {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: message.text))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(fields)
    }

    /// The string map a checkpoint stores.
    var fields: [String: String] {
        var fields: [String: String] = [:]
        fields["init_seed"] = initSeed.map { String($0) }
        if let pruning {
            fields["method"] = pruning.method.rawValue
            fields["density"] = Fields.text(pruning.density)
            fields["sparsity"] = Fields.text(pruning.sparsity)
            fields["compression"] = pruning.compression.map(Fields.text)
            fields["scope"] = pruning.scope.rawValue
            if pruning.denseFirst { fields["dense_first"] = "true" }
            fields["last"] = pruning.last.map(Fields.text)
            fields["linear_keep"] = pruning.linearKeep.map(Fields.text)
            fields["prune_seed"] = String(pruning.seed)
            fields["rounds"] = String(pruning.rounds)
            fields["invert"] = String(pruning.invert)
            fields["samples"] = pruning.samples.map { String($0) }
        }
        if !ablations.isEmpty {
            fields["ablation"] = ablationName
            fields["ablation_seed"] = ablations.map { String($0.seed) }.joined(separator: "+")
        }
        if rewound { fields["rewound"] = "true" }
        return fields
    }

    private init(fields: Fields) throws {
        initSeed = try fields.optional("init_seed") { UInt64($0) }
        if fields.has("method") {
            pruning = Pruning(method: try fields.required("method", PruneMethod.init(rawValue:)),
                              density: try fields.required("density") { Double($0) },
                              sparsity: try fields.required("sparsity") { Double($0) },
                              compression: try fields.optional("compression") { Double($0) },
                              scope: try fields.required("scope", PruneScope.init(rawValue:)),
                              denseFirst: try fields.optional("dense_first") { Bool($0) } ?? false,
                              last: try fields.optional("last") { Double($0) },
                              linearKeep: try fields.optional("linear_keep") { Double($0) },
                              seed: try fields.required("prune_seed") { UInt64($0) },
                              rounds: try fields.required("rounds") { Int($0) },
                              invert: try fields.required("invert") { Bool($0) },
                              samples: try fields.optional("samples") { Int($0) })
        }
        ablations = []
        if fields.has("ablation") {
            let kinds = try fields.required("ablation") { Fields.chain($0, AblationKind.init(rawValue:)) }
            let seeds = try fields.required("ablation_seed") { Fields.chain($0) { UInt64($0) } }
            guard kinds.count == seeds.count else {
                throw Fields.Problem(text: "ablation names \(kinds.count) ablations but ablation_seed \(seeds.count) seeds")
            }
            ablations = zip(kinds, seeds).map { AppliedAblation($0, seed: $1) }
        }
        rewound = try fields.optional("rewound") { Bool($0) } ?? false
    }
}

/// A checkpoint's provenance strings, read one typed value at a time.
private struct Fields {
    /// What is wrong with them, for the loading error.
    struct Problem: Error { let text: String }

    /// The map, without what prn 0.1 wrote for "no method" or "no ablation".
    let map: [String: String]

    init(_ map: [String: String]) {
        var map = map
        if map["method"] == "none" || map["method"] == ModelProvenance.dense { map["method"] = nil }
        if map["ablation"] == "none" || map["ablation"] == ModelProvenance.original {
            map["ablation"] = nil
            map["ablation_seed"] = nil
        }
        self.map = map
    }

    func has(_ key: String) -> Bool { map[key] != nil }

    func optional<T>(_ key: String, _ parse: (String) -> T?) throws -> T? {
        guard let text = map[key] else { return nil }
        guard let value = parse(text) else { throw Problem(text: "\(key) '\(text)' is not a value prn knows") }
        return value
    }

    func required<T>(_ key: String, _ parse: (String) -> T?) throws -> T {
        guard let value = try optional(key, parse) else { throw Problem(text: "\(key) is missing") }
        return value
    }

    /// `a+b+c` parsed part by part; nil when a part does not parse.
    static func chain<T>(_ text: String, _ parse: (String) -> T?) -> [T]? {
        var values: [T] = []
        for part in text.split(separator: "+", omittingEmptySubsequences: false) {
            guard let value = parse(String(part)) else { return nil }
            values.append(value)
        }
        return values
    }

    /// A number as prn writes it: ten significant digits, so `1 − 0.9` reads `0.1`.
    static func text(_ x: Double) -> String { String(format: "%.10g", x) }
}
