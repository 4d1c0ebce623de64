#!/usr/bin/env bash
# Sparse-aware training against PyTorch's masked training on the same machine, in the same run:
# `prn bench sparse` (prn dense vs sparse=auto, SynFlow-pruned LeNet-300-100 and VGG-16 at
# densities 0.1, 0.02, 0.005) beside PyTorch CPU training with torch.nn.utils.prune masks.
# PyTorch is skipped when not installed (`pip install torch==2.13.0` takes a CPU wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh
prn=$(prn_binary)
threads=${THREADS:-2}
prn_out=$(PRN_THREADS=$threads "$prn" bench sparse)
echo "$prn_out"
have_torch || exit 0
torch_out=$(python3 scripts/bench_sparse_torch.py "$threads")
echo "$torch_out" | sed 's/^/torch: /'
python3 - "$prn_out" "$torch_out" <<'PY'
import sys
def parse(text, prefix):
    rows = {}
    for line in text.splitlines():
        if line.startswith(prefix + " model="):
            rows[(lambda f: (f["model"], f["density"]))(dict(kv.split("=", 1) for kv in line.split()[1:]))] = \
                dict(kv.split("=", 1) for kv in line.split()[1:])
    return rows
prn, torch = parse(sys.argv[1], "sparse"), parse(sys.argv[2], "torch_masked")
print(f"{'model':<9} {'density':>7} {'prn dense/s':>11} {'prn sparse/s':>12} {'torch masked/s':>14} {'sparse/torch':>12}")
for key, row in prn.items():
    t = float(torch[key]["samples_per_s"]) if key in torch else float("nan")
    s = float(row["sparse_samples_per_s"])
    print(f"{key[0]:<9} {key[1]:>7} {float(row['dense_samples_per_s']):>11.0f} {s:>12.0f} {t:>14.0f} {s / t:>12.2f}")
PY
