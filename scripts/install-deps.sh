#!/usr/bin/env bash
# Installs what nnmeter's build, tests and CI need on Debian 12 (bookworm).
# Fast when nothing is missing: every package is checked with dpkg-query first, and apt-get
# runs only when something is absent and we are root (otherwise it prints the command to run).
# Usage: scripts/install-deps.sh
# SPDX-License-Identifier: MIT
set -euo pipefail

packages=(
  # toolchains and build tools ("clang" is bookworm's clang-14 plus the clang++ name;
  # libclang-rt-14-dev holds the sanitizer runtimes)
  cmake ninja-build make pkg-config g++ clang libclang-rt-14-dev python3 diffutils
  # libraries: test framework, optional support modules, tools, benchmarks, trainer
  doctest-dev nlohmann-json3-dev libcli11-dev libxgboost-dev libbenchmark-dev
  # ONNX import/export (nnmeter::onnx) and its test models: Debian's ONNX test data, and
  # torchvision (with torch) for exporting models offline with random weights
  libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata python3-torchvision python3-onnx
  # the local-device backend: XNNPACK and its runtime dependencies; Eigen for reference outputs
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev libeigen3-dev
  # the builder: workspace configs (yaml-cpp), the profile store (SQLiteCpp over SQLite, OpenSSL's
  # SHA-256 for model hashes), and the sqlite3 shell its tests inspect the store with
  libyaml-cpp-dev libsqlitecpp-dev libsqlite3-dev libssl-dev sqlite3
)

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = "installed" ]
}

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-deps: dpkg-query not found; this script supports Debian/Ubuntu only." >&2
  echo "install-deps: needed: ${packages[*]}" >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: not root, so not installing; run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
