#!/usr/bin/env bash
# prn against its peers on this machine, in one run: SGEMM against numpy/OpenBLAS, training and
# SynFlow against PyTorch CPU (skipped when `import torch` fails; `pip install torch==2.13.0`).
# Prints each comparison's table; ratios > 1 mean prn is faster. BENCH_REPEAT=N repeats each
# comparison (SGEMM, training, SynFlow) N times, prn and its peer alternating, and reports medians.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >/dev/null
export PRN=.build/release/prn

echo "== SGEMM (GFLOP/s) vs numpy/OpenBLAS"
scripts/bench-gemm.sh
echo
echo "== training (samples/s) vs PyTorch"
scripts/bench-train.sh
echo
echo "== SynFlow, 100 rounds on VGG-16 (seconds) vs PyTorch"
source scripts/bench-common.sh
torch=true
have_torch || torch=false
seconds=()
for ((r = 1; r <= ${BENCH_REPEAT:-1}; r++)); do
  prn_out=$("$PRN" bench synflow)
  echo "$prn_out"
  $torch || continue
  torch_out=$(python3 scripts/bench_synflow_torch.py)
  echo "torch: $torch_out"
  seconds+=("$prn_out" "$torch_out")
done
$torch || exit 0
python3 - "${seconds[@]}" <<'PY'
import sys, statistics
seconds = lambda line: float(dict(kv.split("=") for kv in line.split()[1:])["seconds"])
runs = [(seconds(p), seconds(t)) for p, t in zip(sys.argv[1::2], sys.argv[2::2])]
ratios = sorted(p / t for p, t in runs)
p, t = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
spread = f" (pairs {ratios[0]:.3f}-{ratios[-1]:.3f} of PyTorch's time)" if len(runs) > 1 else ""
print(f"prn {p:.2f} s, PyTorch {t:.2f} s: prn takes {statistics.median(ratios):.3f}x PyTorch's time, "
      f"{1 / statistics.median(ratios):.2f}x as fast{spread}")
PY
