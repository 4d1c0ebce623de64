#!/usr/bin/env bash
# Installs the Debian packages prn needs, if any is missing: libedit (line editing), zlib
# (gzipped idx files), pkg-config (to find both) and the Fashion-MNIST data set.
# Uses sudo when not root; safe to run repeatedly; needs no terminal.
set -euo pipefail

packages=(libedit-dev zlib1g-dev pkg-config dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
