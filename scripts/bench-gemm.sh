#!/usr/bin/env bash
# Compares prn's SGEMM with numpy's float32 matmul (OpenBLAS) on this machine, in one run.
#
#   scripts/bench-gemm.sh            # build release, then print the comparison table
#   PRN=path/to/prn scripts/bench-gemm.sh   # use an existing binary, skip the build
#   BENCH_OPENBLAS_CORETYPE=Haswell scripts/bench-gemm.sh   # OpenBLAS's AVX2 kernels, to compare
#                                                           # a PRN_MARCH=x86-64-v3 build on an AVX-512 CPU
#   BENCH_REPEAT=3 scripts/bench-gemm.sh    # three rounds; medians and the rounds' range
#
# Both sides time square C = A·B, and the products a training step makes (`prn bench gemm`'s
# `shape=` lines: LeNet-300-100's first layer, VGG-16 and ResNet-20 im2col products, forward and
# both gradients, with their transposes; and the sequences of Winograd's 36 α² products of one
# group of samples, `count=36`, on one thread only: prn's A packed beforehand as in a step), the
# same way: one warm-up call, then repeat until at
# least 0.5 s has passed and 8 calls were made, and report the best rate (2·m·n·k flops per
# call). numpy runs in a separate process per thread count with OPENBLAS_NUM_THREADS /
# OMP_NUM_THREADS set, and without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE so OpenBLAS picks its own
# kernel for this CPU (unless BENCH_OPENBLAS_CORETYPE names one). A round is prn's whole run, then
# numpy's, so both sides see the host in about the same state; on a shared VM one round's ratio can
# swing by ±25 %, so with BENCH_REPEAT=N > 1 the table shows each side's median rate, the median of
# the rounds' ratios and their range.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh
prn=$(prn_binary)
rounds=${BENCH_REPEAT:-1}

# prn prints lines like `gemm n=1024 threads=1 gflops=88.12` and
# `gemm shape=vgg16.conv2.forward m=64 n=1024 k=576 transA=0 transB=0 threads=1 gflops=80.1`;
# the first round's lines name the sizes and products numpy times.
prn_first=$("$prn" bench gemm)
if ! grep -q '^gemm n=' <<<"$prn_first"; then
    echo "bench-gemm: no results from '$prn bench gemm':" >&2
    echo "$prn_first" >&2
    exit 1
fi
sizes=$(sed -n 's/^gemm n=\([0-9]*\) .*/\1/p' <<<"$prn_first" | sort -n -u | tr '\n' ' ')
thread_counts=$(sed -n 's/^gemm n=[0-9]* threads=\([0-9]*\) .*/\1/p' <<<"$prn_first" | sort -n -u | tr '\n' ' ')
# A sequence of Winograd's α² products adds `count=36 packedA=1` (numpy multiplies the count
# products one after the other, each with its own operands, as prn does).
shape_args=$(sed -n 's/^gemm shape=\([^ ]*\) m=\([0-9]*\) n=\([0-9]*\) k=\([0-9]*\) transA=\([01]\) transB=\([01]\) \(count=\([0-9]*\) \)\{0,1\}.*/\1:\2:\3:\4:\5:\6:\8/p' \
    <<<"$prn_first" | sort -u | tr '\n' ' ')

numpy_bench() {  # $1 = threads; prints lines in prn's format
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ${BENCH_OPENBLAS_CORETYPE:+OPENBLAS_CORETYPE=$BENCH_OPENBLAS_CORETYPE} \
        OPENBLAS_NUM_THREADS="$1" OMP_NUM_THREADS="$1" python3 - "$1" $sizes $shape_args <<'PY'
import sys, time
import numpy as np
threads = sys.argv[1]
rng = np.random.default_rng(0)
def rate(m, n, k, trans_a, trans_b, count=1):
    # Operands stored as prn stores them; a transposed one is a view, which BLAS reads in place.
    # `count` products in a row, each with its own operands (a Winograd layer's α² positions).
    def operands():
        a = rng.standard_normal((k, m) if trans_a else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if trans_b else (k, n), dtype=np.float32)
        return (a.T if trans_a else a), (b.T if trans_b else b), np.empty((m, n), dtype=np.float32)
    products = [operands() for _ in range(count)]
    def run():
        for a, b, c in products:
            np.matmul(a, b, out=c)
    run()
    best, total, runs = float("inf"), 0.0, 0
    while total < 0.5 or runs < 8:
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
        best, total, runs = min(best, seconds), total + seconds, runs + 1
    return 2 * m * n * k * count / best / 1e9
for arg in sys.argv[2:]:
    if ":" in arg:
        name, m, n, k, ta, tb, count = arg.split(":")
        if count and threads != "1":
            continue  # prn times a sequence on one thread only
        print(f"gemm shape={name} m={m} n={n} k={k} transA={ta} transB={tb} threads={threads} "
              f"gflops={rate(int(m), int(n), int(k), ta == '1', tb == '1', int(count or 1)):.2f}")
    else:
        n = int(arg)
        print(f"gemm n={n} threads={threads} gflops={rate(n, n, n, False, False):.2f}")
PY
}

# All rounds' lines, each tagged with its side and round, for the table below.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for ((r = 1; r <= rounds; r++)); do
    prn_out=$prn_first
    ((r > 1)) && prn_out=$("$prn" bench gemm)
    sed -n "s/^gemm \(.*gflops=.*\)/prn $r \1/p" <<<"$prn_out" >>"$log"
    for t in $thread_counts; do
        numpy_bench "$t" | sed "s/^gemm /blas $r /" >>"$log"
    done
done

tiling=$(sed -n 's/^gemm tiling=//p' <<<"$prn_first")
python3 - "$log" "$rounds" "${BENCH_OPENBLAS_CORETYPE:-its own choice}" "$tiling" <<'PY'
import statistics, sys
log, rounds, kernel, tiling = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rates, order = {}, []  # (key, side) -> {round: GFLOP/s}; keys in prn's order
for line in open(log):
    side, round_, *fields = line.split()
    f = dict(x.split("=", 1) for x in fields)
    key = (f["shape"], f["m"], f["n"], f["k"], f["transA"], f["transB"], f["threads"]) if "shape" in f else (f["n"], f["threads"])
    if side == "prn" and key not in order:
        order.append(key)
    rates.setdefault((key, side), {})[int(round_)] = float(f["gflops"])

def columns(key):
    prn, blas = rates.get((key, "prn"), {}), rates.get((key, "blas"), {})
    ratios = sorted(prn[r] / blas[r] for r in prn if blas.get(r))
    p = statistics.median(prn.values())
    b = statistics.median(blas.values()) if blas else 0.0
    ratio = f"{statistics.median(ratios):.2f}" if ratios else "-"
    spread = f"{ratios[0]:.2f}-{ratios[-1]:.2f}" if len(ratios) > 1 else ""
    return p, b, ratio, spread

medians = "best of >= 0.5 s and >= 8 calls" + (f"; medians of {rounds} rounds, prn then OpenBLAS in each" if rounds > 1 else "")
print(f"SGEMM, square, row-major float32, GFLOP/s ({medians}); OpenBLAS kernel: {kernel}; prn tiling: {tiling}")
print(f"{'size':>6} {'threads':>8} {'prn':>10} {'OpenBLAS':>10} {'ratio':>7}" + ("  rounds" if rounds > 1 else ""))
for key in order:
    if len(key) == 2:
        p, b, ratio, spread = columns(key)
        print(f"{int(key[0]):6d} {int(key[1]):8d} {p:10.1f} {b:10.1f} {ratio:>7}" + (f"  {spread}" if spread else ""))
shapes = [key for key in order if len(key) > 2]
if shapes:
    print()
    print("SGEMM, the products of a training step (forward, grad_a, grad_b), GFLOP/s")
    print(f"{'product':<28} {'m':>5} {'n':>5} {'k':>5} {'tA':>3} {'tB':>3} {'threads':>8} {'prn':>8} {'OpenBLAS':>8} {'ratio':>6}"
          + ("  rounds" if rounds > 1 else ""))
    for key in shapes:
        p, b, ratio, spread = columns(key)
        name, m, n, k, ta, tb, t = key
        print(f"{name:<28} {int(m):5d} {int(n):5d} {int(k):5d} {int(ta):3d} {int(tb):3d} {int(t):8d} {p:8.1f} {b:8.1f} {ratio:>6}"
              + (f"  {spread}" if spread else ""))
PY
