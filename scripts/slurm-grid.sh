#!/bin/bash
# Slurm array job for any prn grid: task i of n runs shard i/n of the script's units, resumable
# after preemption (Slurm's SIGTERM makes prn write what it has; requeue reruns with --resume).
#   sbatch --array=0-7 scripts/slurm-grid.sh grid.prn results [prn run options…]
#   .build/release/prn merge results/shard-*.jsonl --notebook grid.md
# PRN names the prn executable (default .build/release/prn); each task uses its CPUs as worker
# processes (prn's default --jobs).
#SBATCH --job-name=prn-grid
#SBATCH --cpus-per-task=2
#SBATCH --requeue
set -euo pipefail
script=$1
results=$2
shift 2
mkdir -p "$results"
task=${SLURM_ARRAY_TASK_ID:-0}
count=${SLURM_ARRAY_TASK_COUNT:-1}
PRN_THREADS=${SLURM_CPUS_PER_TASK:-1} exec "${PRN:-.build/release/prn}" run "$script" \
    --shard "$task/$count" --results "$results/shard-$task.jsonl" --resume "$@"
