import PrnNotebook

/// The verdict on "immune to the ablation" per group (METHODS.md, Verdicts), computed from the
/// numbers in a results table, never written by hand.
extension Table {
    /// One row per group and variant: n, both means, Δ, σ, Welch's p and the verdict.
    public func verdicts(metric: String, variant: String, baseline: String, over: String) -> Table {
        let keyColumns = columns.filter { ![metric, variant, over].contains($0) && isKey($0) }
        let m = columns.firstIndex(of: metric)!, v = columns.firstIndex(of: variant)!
        let keys = keyColumns.map { columns.firstIndex(of: $0)! }
        // Groups and variants in order of first appearance.
        var groups: [[TableCell]] = [], samples: [[String: [Double]]] = [], variants: [[String]] = []
        for row in rows {
            let key = keys.map { row[$0] }
            let g = groups.firstIndex(of: key) ?? { groups.append(key); samples.append([:]); variants.append([]); return groups.count - 1 }()
            let name = row[v].description
            if samples[g][name] == nil { variants[g].append(name) }
            if let x = row[m].number { samples[g][name, default: []].append(x) }
        }
        var out = Table(columns: keyColumns + [variant, "n", "baseline_mean", "mean", "delta", "sigma", "welch_p", "verdict"],
                        title: "\(metric): \(variant) vs \(baseline) (holds when Δ ≥ −σ)")
        for (g, key) in groups.enumerated() {
            guard let base = samples[g][baseline] else { continue }
            for name in variants[g] where name != baseline {
                let x = samples[g][name] ?? []
                let (mb, sb) = Replicates.meanAndStd(base), (mv, sv) = Replicates.meanAndStd(x)
                let delta = mv - mb, sigma = ((sb * sb + sv * sv) / 2).squareRoot()
                let welch = Stats.welchTTest(x, base)
                let verdict = delta.isNaN || sigma.isNaN ? "—" : (delta >= -sigma ? "holds" : "fails")
                out = out.appending(zip(keyColumns, key).map { ($0, $1) } + [
                    (variant, .text(name)), ("n", .int(x.count)), ("baseline_mean", .number(mb)), ("mean", .number(mv)),
                    ("delta", .number(delta)), ("sigma", .number(sigma)),
                    ("welch_p", welch.pValue.isNaN ? .missing : .number(welch.pValue)), ("verdict", .text(verdict)),
                ])
            }
        }
        return out
    }

    /// Columns that identify a group: text columns, and numeric ones with few distinct values
    /// relative to the rows (settings such as sparsity, not measurements such as loss).
    private func isKey(_ column: String) -> Bool {
        guard let cells = self.column(column) else { return false }
        if cells.contains(where: { if case .text = $0 { return true } else { return false } }) { return true }
        return Set(cells.map(\.description)).count * 3 <= cells.count
    }
}
