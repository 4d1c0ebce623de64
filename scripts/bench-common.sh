# Shared by the scripts/bench-*.sh comparisons; source it after `set -euo pipefail` and `cd` to
# the repository.

# The prn binary to time: $PRN, else a fresh release build (its output on stderr).
prn_binary() {
  if [[ -n ${PRN:-} ]]; then
    echo "$PRN"
  else
    swift build -c release >&2
    echo .build/release/prn
  fi
}

# Whether PyTorch can be imported; when not, says that its comparison is skipped.
have_torch() {
  if python3 -c "import torch" 2>/dev/null; then
    return 0
  fi
  echo "PyTorch not installed: skipping the comparison (pip install torch==2.13.0)"
  return 1
}
