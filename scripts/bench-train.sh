#!/usr/bin/env bash
# Training throughput of prn against PyTorch CPU on the same machine, in the same run:
# LeNet-300-100 (one Fashion-MNIST epoch, Adam, batch 64), Conv-2 (50 steps), VGG-11 width 0.25
# (20 steps, CIFAR shapes), VGG-16 width 1 (5 steps) and ResNet-20 (10 steps), both CIFAR shapes,
# SGD, batch 128, on 1 and 2 threads; then the peak resident memory of training VGG-16 alone, in
# a process of its own for each. PyTorch is skipped when not installed (`pip install torch==2.13.0`
# takes a CPU wheel).
#
# The two run model by model, prn then PyTorch, so that both see the host in the same state (its
# speed drifts by tens of percent within minutes on shared VMs). BENCH_REPEAT=N (default 1) runs
# each model's pair N times and the table gives the median rate of each and the median of the
# pairs' ratios, with their range. BENCH_MODELS=vgg16,resnet20 picks models.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh
prn=$(prn_binary)
repeat=${BENCH_REPEAT:-1}
models=${BENCH_MODELS:-lenet300,conv2,vgg11,vgg16,resnet20}
torch=true
have_torch || torch=false
prn_out="" torch_out=""
for model in ${models//,/ }; do
  for ((r = 1; r <= repeat; r++)); do
    line=$(BENCH_MODELS=$model "$prn" bench train | sed "s/\$/ pair=$r/")
    echo "$line"
    prn_out+="$line"$'\n'
    if $torch; then
      line=$(BENCH_MODELS=$model python3 scripts/bench_train_torch.py 1 2 | sed "s/\$/ pair=$r/")
      echo "$line" | sed 's/^/torch: /'
      torch_out+="$line"$'\n'
    fi
  done
done
$torch || exit 0
python3 - "$prn_out" "$torch_out" <<'PY'
import sys, statistics
def parse(text):
    rows = {}
    for line in text.splitlines():
        if not line.startswith("train "):  # PRN_POOL_STATS=1 adds host and pool lines
            continue
        f = dict(kv.split("=") for kv in line.split()[1:])
        rows.setdefault((f["model"], f["threads"]), {})[f["pair"]] = float(f["samples_per_s"])
    return rows
prn, torch = parse(sys.argv[1]), parse(sys.argv[2])
print(f"{'model':<10} {'threads':>7} {'prn/s':>9} {'torch/s':>9} {'prn/torch':>9}  pairs")
for key, runs in prn.items():
    pairs = [p for p in runs if p in torch.get(key, {})]
    if not pairs:
        continue
    ratios = sorted(runs[p] / torch[key][p] for p in pairs)
    spread = f"{ratios[0]:.2f}-{ratios[-1]:.2f} over {len(pairs)}" if len(pairs) > 1 else "1"
    print(f"{key[0]:<10} {key[1]:>7} {statistics.median(runs[p] for p in pairs):>9.0f} "
          f"{statistics.median(torch[key][p] for p in pairs):>9.0f} {statistics.median(ratios):>9.2f}  {spread}")
PY
# Peak resident memory (GNU time's %M, in KB) of a process that trains VGG-16 only, data included.
peak_kb() { BENCH_MODELS=vgg16 /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
if [[ -x /usr/bin/time ]]; then
  prn_kb=$(peak_kb "$prn" bench train)
  torch_kb=$(peak_kb python3 scripts/bench_train_torch.py 1 2)
  echo "peak_rss model=vgg16 prn_mb=$((prn_kb / 1024)) torch_mb=$((torch_kb / 1024))"
fi
