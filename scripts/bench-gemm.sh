#!/usr/bin/env bash
# Compares prn's SGEMM with numpy's float32 matmul (OpenBLAS) on this machine, in one run.
#
#   scripts/bench-gemm.sh            # build release, then print the comparison table
#   PRN=path/to/prn scripts/bench-gemm.sh   # use an existing binary, skip the build
#
# Both sides time square C = A·B the same way: one warm-up call, then repeat until at least
# 0.5 s has passed, and report the best rate (2·n³ flops per call). numpy runs in a separate
# process per thread count with OPENBLAS_NUM_THREADS / OMP_NUM_THREADS set, and without
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE so OpenBLAS picks its own kernel for this CPU.
set -euo pipefail
cd "$(dirname "$0")/.."

prn=${PRN:-}
if [[ -z $prn ]]; then
    swift build -c release >&2
    prn=.build/release/prn
fi

# prn prints lines like: gemm n=1024 threads=1 gflops=88.12
prn_out=$("$prn" bench gemm)
results=$(sed -n 's/^gemm n=\([0-9]*\) threads=\([0-9]*\) gflops=\([0-9.]*\)$/\1 \2 \3/p' <<<"$prn_out")
if [[ -z $results ]]; then
    echo "bench-gemm: no results from '$prn bench gemm':" >&2
    echo "$prn_out" >&2
    exit 1
fi
sizes=$(awk '{print $1}' <<<"$results" | sort -n -u | tr '\n' ' ')
thread_counts=$(awk '{print $2}' <<<"$results" | sort -n -u | tr '\n' ' ')

numpy_bench() {  # $1 = threads; prints "n threads gflops" per size
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$1" OMP_NUM_THREADS="$1" \
        python3 - "$1" $sizes <<'PY'
import sys, time
import numpy as np
threads, sizes = sys.argv[1], [int(s) for s in sys.argv[2:]]
rng = np.random.default_rng(0)
for n in sizes:
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=c)
    best, total = float("inf"), 0.0
    while total < 0.5:
        start = time.perf_counter()
        np.matmul(a, b, out=c)
        seconds = time.perf_counter() - start
        best, total = min(best, seconds), total + seconds
    print(n, threads, f"{2 * n**3 / best / 1e9:.2f}")
PY
}

numpy_results=""
for t in $thread_counts; do
    numpy_results+=$(numpy_bench "$t")$'\n'
done

echo "SGEMM, square, row-major float32, GFLOP/s (best of >= 0.5 s)"
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
