#!/bin/bash
# Slurm array job for the CIFAR-10 grid: 8 shards, each resumable after preemption.
#   sbatch scripts/slurm-frankle.sh        then, when all are done:
#   .build/release/prn merge results/shard-*.jsonl --notebook frankle-cifar.md
#SBATCH --job-name=prn-frankle
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --time=24:00:00
set -euo pipefail
mkdir -p results
PRN_THREADS=${SLURM_CPUS_PER_TASK:-2} .build/release/prn run scripts/reproduce/frankle-cifar.prn \
    --shard "${SLURM_ARRAY_TASK_ID}/8" --results "results/shard-${SLURM_ARRAY_TASK_ID}.jsonl" --resume
