#!/usr/bin/env bash
# prn against its peers on this machine, in one run: SGEMM against numpy/OpenBLAS, training and
# SynFlow against PyTorch CPU (skipped when `import torch` fails; `pip install torch==2.13.0`).
# Prints each comparison's table; ratios > 1 mean prn is faster.
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
prn_out=$("$PRN" bench synflow)
echo "$prn_out"
source scripts/bench-common.sh
if have_torch; then
  torch_out=$(python3 scripts/bench_synflow_torch.py)
  echo "torch: $torch_out"
  python3 - "$prn_out" "$torch_out" <<'PY'
import sys
seconds = lambda line: float(dict(kv.split("=") for kv in line.split()[1:])["seconds"])
p, t = seconds(sys.argv[1]), seconds(sys.argv[2])
print(f"prn {p:.1f} s, PyTorch {t:.1f} s: prn is {t / p:.2f}x as fast")
PY
fi
