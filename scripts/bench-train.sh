#!/usr/bin/env bash
# Training throughput of prn against PyTorch CPU on the same machine, in the same run:
# LeNet-300-100 (one Fashion-MNIST epoch, Adam, batch 64), Conv-2 (50 steps), VGG-11 width 0.25
# (20 steps, CIFAR shapes), VGG-16 width 1 (5 steps) and ResNet-20 (10 steps), both CIFAR shapes,
# SGD, batch 128, on 1 and 2 threads; then the peak resident memory of training VGG-16 alone, in
# a process of its own for each. PyTorch is skipped when not installed (`pip install torch==2.13.0`
# takes a CPU wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh
prn=$(prn_binary)
prn_out=$("$prn" bench train)
echo "$prn_out"
have_torch || exit 0
torch_out=$(python3 scripts/bench_train_torch.py 1 2)
echo "$torch_out" | sed 's/^/torch: /'
python3 - "$prn_out" "$torch_out" <<'PY'
import sys
def parse(text):
    rows = {}
    for line in text.splitlines():
        f = dict(kv.split("=") for kv in line.split()[1:])
        rows[(f["model"], f["threads"])] = float(f["samples_per_s"])
    return rows
prn, torch = parse(sys.argv[1]), parse(sys.argv[2])
print(f"{'model':<10} {'threads':>7} {'prn/s':>9} {'torch/s':>9} {'prn/torch':>9}")
for key in prn:
    if key in torch:
        print(f"{key[0]:<10} {key[1]:>7} {prn[key]:>9.0f} {torch[key]:>9.0f} {prn[key] / torch[key]:>9.2f}")
PY
# Peak resident memory (GNU time's %M, in KB) of a process that trains VGG-16 only, data included.
peak_kb() { BENCH_MODELS=vgg16 /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
if [[ -x /usr/bin/time ]]; then
  prn_kb=$(peak_kb "$prn" bench train)
  torch_kb=$(peak_kb python3 scripts/bench_train_torch.py 1 2)
  echo "peak_rss model=vgg16 prn_mb=$((prn_kb / 1024)) torch_mb=$((torch_kb / 1024))"
fi
