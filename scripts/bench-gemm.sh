#!/usr/bin/env bash
# Compares prn's SGEMM with numpy's float32 matmul (OpenBLAS) on this machine, in one run.
#
#   scripts/bench-gemm.sh            # build release, then print the comparison table
#   PRN=path/to/prn scripts/bench-gemm.sh   # use an existing binary, skip the build
#   BENCH_OPENBLAS_CORETYPE=Haswell scripts/bench-gemm.sh   # OpenBLAS's AVX2 kernels, to compare
#                                                           # a PRN_MARCH=x86-64-v3 build on an AVX-512 CPU
#
# Both sides time square C = A·B, and the products a training step makes (`prn bench gemm`'s
# `shape=` lines: LeNet-300-100's first layer, VGG-16 and ResNet-20 im2col products, forward and
# both gradients, with their transposes), the same way: one warm-up call, then repeat until at
# least 0.5 s has passed, and report the best rate (2·m·n·k flops per call). numpy runs in a separate
# process per thread count with OPENBLAS_NUM_THREADS / OMP_NUM_THREADS set, and without
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE so OpenBLAS picks its own kernel for this CPU (unless
# BENCH_OPENBLAS_CORETYPE names one).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh
prn=$(prn_binary)

# prn prints lines like: gemm n=1024 threads=1 gflops=88.12
prn_out=$("$prn" bench gemm)
results=$(sed -n 's/^gemm n=\([0-9]*\) threads=\([0-9]*\) gflops=\([0-9.]*\)$/\1 \2 \3/p' <<<"$prn_out")
if [[ -z $results ]]; then
    echo "bench-gemm: no results from '$prn bench gemm':" >&2
    echo "$prn_out" >&2
    exit 1
fi
# and lines like: gemm shape=vgg16.conv2.forward m=64 n=1024 k=576 transA=0 transB=0 threads=1 gflops=80.1
shapes=$(sed -n 's/^gemm shape=\([^ ]*\) m=\([0-9]*\) n=\([0-9]*\) k=\([0-9]*\) transA=\([01]\) transB=\([01]\) threads=\([0-9]*\) gflops=\([0-9.]*\)$/\1 \2 \3 \4 \5 \6 \7 \8/p' <<<"$prn_out")
shape_args=$(awk 'NF {print $1 ":" $2 ":" $3 ":" $4 ":" $5 ":" $6}' <<<"$shapes" | sort -u | tr '\n' ' ')
sizes=$(awk '{print $1}' <<<"$results" | sort -n -u | tr '\n' ' ')
thread_counts=$(awk '{print $2}' <<<"$results" | sort -n -u | tr '\n' ' ')

numpy_bench() {  # $1 = threads; prints "n threads gflops" per size, "name threads gflops" per shape
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ${BENCH_OPENBLAS_CORETYPE:+OPENBLAS_CORETYPE=$BENCH_OPENBLAS_CORETYPE} \
        OPENBLAS_NUM_THREADS="$1" OMP_NUM_THREADS="$1" python3 - "$1" $sizes $shape_args <<'PY'
import sys, time
import numpy as np
threads = sys.argv[1]
rng = np.random.default_rng(0)
def rate(m, n, k, trans_a, trans_b):
    # Operands stored as prn stores them; a transposed one is a view, which BLAS reads in place.
    a = rng.standard_normal((k, m) if trans_a else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n), dtype=np.float32)
    a, b = (a.T if trans_a else a), (b.T if trans_b else b)
    c = np.empty((m, n), dtype=np.float32)
    np.matmul(a, b, out=c)
    best, total = float("inf"), 0.0
    while total < 0.5:
        start = time.perf_counter()
        np.matmul(a, b, out=c)
        seconds = time.perf_counter() - start
        best, total = min(best, seconds), total + seconds
    return 2 * m * n * k / best / 1e9
for arg in sys.argv[2:]:
    if ":" in arg:
        name, m, n, k, ta, tb = arg.split(":")
        print(name, threads, f"{rate(int(m), int(n), int(k), ta == '1', tb == '1'):.2f}")
    else:
        n = int(arg)
        print(n, threads, f"{rate(n, n, n, False, False):.2f}")
PY
}

numpy_results=""
for t in $thread_counts; do
    numpy_results+=$(numpy_bench "$t")$'\n'
done

echo "SGEMM, square, row-major float32, GFLOP/s (best of >= 0.5 s); OpenBLAS kernel: ${BENCH_OPENBLAS_CORETYPE:-its own choice}; prn tiling: $(sed -n 's/^gemm tiling=//p' <<<"$prn_out")"
awk -v blas="$numpy_results" '
    BEGIN {
        n = split(blas, lines, "\n")
        for (i = 1; i <= n; i++) if (split(lines[i], f, " ") == 3) ref[f[1] " " f[2]] = f[3]
        printf "%6s %8s %10s %10s %7s\n", "size", "threads", "prn", "OpenBLAS", "ratio"
    }
    {
        key = $1 " " $2
        r = (key in ref) ? ref[key] : 0
        ratio = (r > 0) ? sprintf("%.2f", $3 / r) : "-"
        printf "%6d %8d %10.1f %10.1f %7s\n", $1, $2, $3, r, ratio
    }' <<<"$results"

[[ -z $shapes ]] && exit 0
echo
echo "SGEMM, the products of a training step (forward, grad_a, grad_b), GFLOP/s"
awk -v blas="$numpy_results" '
    BEGIN {
        n = split(blas, lines, "\n")
        for (i = 1; i <= n; i++) if (split(lines[i], f, " ") == 3) ref[f[1] " " f[2]] = f[3]
        printf "%-28s %5s %5s %5s %3s %3s %8s %8s %8s %6s\n", "product", "m", "n", "k", "tA", "tB", "threads", "prn", "OpenBLAS", "ratio"
    }
    {
        key = $1 " " $7
        r = (key in ref) ? ref[key] : 0
        ratio = (r > 0) ? sprintf("%.2f", $8 / r) : "-"
        printf "%-28s %5d %5d %5d %3d %3d %8d %8.1f %8.1f %6s\n", $1, $2, $3, $4, $5, $6, $7, $8, r, ratio
    }' <<<"$shapes"
