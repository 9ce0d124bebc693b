#!/usr/bin/env bash
# Builds nnmeter (Release, in build/) and runs the CLI on nn-Meter's MobileNetV3-small IR with
# its TFLite-CPU fusion rules, printing the detected kernels.
# Usage: scripts/demo.sh
# SPDX-License-Identifier: MIT
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/install-deps.sh

generator=()
if [ ! -f build/CMakeCache.txt ] && command -v ninja >/dev/null 2>&1; then
  generator=(-G Ninja)
fi
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

cmake -S . -B build "${generator[@]}" "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DNNMETER_BUILD_TOOLS=ON
cmake --build build -j "${NNMETER_JOBS:-2}" --target nnmeter_cli

set -x
build/bin/nnmeter kernels \
  --nnmeter-ir tests/data/mobilenetv3small_0.ir.json \
  --rules tests/data/rule_tflite_cpu.json
