#!/usr/bin/env bash
# Installs the Debian 12 packages gflow needs (when missing) and configures the build directory.
#   scripts/setup.sh [BUILD_DIR] [MESON_OPTIONS...]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
shift || true

packages=(g++ meson ninja-build pkg-config libfmt-dev
          libboost1.81-dev libboost-test1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
          libopenblas-dev    # OpenBLAS: the large products of a step (include/gflow/core/blas.hpp)
          openmpi-bin libopenmpi-dev)   # Open MPI: training over ranks (docs/distributed.md; tests/mpi/)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "gflow: missing Debian packages: ${missing[*]}; run this as root or: sudo apt-get install ${missing[*]}" >&2
        exit 2
    fi
    echo "gflow: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ ! -f "$build_dir/build.ninja" ]]; then
    meson setup "$build_dir" "$@"
fi
