#!/usr/bin/env bash
# Installs what prn's build and tests need, if any is missing: libedit (line editing), zlib
# (gzipped idx files), pkg-config (to find both), libzmq (the Jupyter kernel's sockets), the
# Fashion-MNIST data set, python3 with numpy and scipy (the tests' independent references), and
# jupyter_client, nbformat and nbclient (the Jupyter tests drive the kernel with them).
# Uses sudo when not root; safe to run repeatedly; needs no terminal.
set -euo pipefail

as_root=()
if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
apt_updated=false

# apt_install PACKAGE…: installs the packages that are not installed yet.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  if [ "$apt_updated" = false ]; then
    "${as_root[@]}" apt-get update -qq
    apt_updated=true
  fi
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

apt_install libedit-dev zlib1g-dev pkg-config dataset-fashion-mnist libzmq3-dev

# The references: Debian's packages for Debian's python3 (pip may not install into it, PEP 668),
# pip for any other python3 first on PATH (pyenv, a venv). Both numpy 1.24 / scipy 1.10 (Debian 12)
# and current releases work.
if ! python3 -c 'import numpy, scipy.stats' 2>/dev/null; then
  python=$(command -v python3 || true)
  if [ -z "$python" ] || dpkg -S "$(readlink -f "$python")" >/dev/null 2>&1; then
    apt_install python3 python3-numpy python3-scipy
  else
    echo "installing numpy and scipy with $python -m pip" >&2
    "$python" -m pip install --quiet numpy scipy
  fi
  python3 -c 'import numpy, scipy.stats'
fi

# Jupyter kernel (issue 14): the libraries its tests drive it with, chosen as for numpy above.
if ! python3 -c 'import jupyter_client, nbformat, nbclient' 2>/dev/null; then
  python=$(command -v python3 || true)
  if [ -z "$python" ] || dpkg -S "$(readlink -f "$python")" >/dev/null 2>&1; then
    apt_install python3 python3-jupyter-client python3-nbformat python3-nbclient
  else
    echo "installing jupyter_client, nbformat and nbclient with $python -m pip" >&2
    "$python" -m pip install --quiet jupyter_client nbformat nbclient
  fi
  python3 -c 'import jupyter_client, nbformat, nbclient'
fi
