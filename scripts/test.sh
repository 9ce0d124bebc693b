#!/usr/bin/env bash
# nnmeter CI: builds and tests every configuration, each a CMake preset (CMakePresets.json) in
# its own folder build-ci/<preset>, so any step can be repeated by hand:
#   cmake --preset <p> && cmake --build --preset <p> -j2 && ctest --preset <p> -j2
# Configurations:
#   gcc-cxx17      g++ C++17 -O1 -Werror, full ctest (unit, examples, CLI, amalgamation,
#                  firewall, self-contained headers, compile-fail, CMake consumers)
#   clang-cxx20    clang++ C++20 -Werror, full ctest
#   asan-ubsan     clang++ -fsanitize=address,undefined -fno-sanitize-recover=all, unit/examples/CLI
#   single-header  NNMETER_USE_SINGLE_HEADER=ON: public unit tests and examples against
#                  single_include/nnmeter.hpp
# The torchvision ONNX models the io_onnx_models tests read are exported once, into
# build-ci/onnx_models, and shared by all configurations (--clean removes them too).
# Usage: scripts/test.sh [--clean] [preset...]     (default: all four; NNMETER_JOBS=2)
# The last line is "<N> passed, <N> failed", summed over ctest's counts of every configuration;
# a configuration that fails to configure or build adds one failure (after a build failure the
# tests that did build still run). Exit status 1 on any failure. Logs: build-ci/logs/.
# SPDX-License-Identifier: MIT
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

clean=0
presets=()
for arg in "$@"; do
  case "$arg" in
    --clean) clean=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) presets+=("$arg") ;;
  esac
done
if [ ${#presets[@]} -eq 0 ]; then
  presets=(gcc-cxx17 clang-cxx20 asan-ubsan single-header)
fi
jobs="${NNMETER_JOBS:-2}"

./scripts/install-deps.sh || { echo "test.sh: installing dependencies failed" >&2; exit 1; }

configure_args=()
if command -v ccache >/dev/null 2>&1; then
  configure_args=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# The torchvision ONNX exports (tests/onnx_models, 3.4 GB) are made once and shared by every
# configuration: the first ctest run exports them, the others find them in the cache.
configure_args+=("-DNNMETER_ONNX_MODELS_DIR=$PWD/build-ci/onnx_models")

logdir=build-ci/logs
[ "$clean" -eq 1 ] && rm -rf build-ci
mkdir -p "$logdir"

total_passed=0
total_failed=0
report=()
start_all=$SECONDS

for preset in "${presets[@]}"; do
  echo
  echo "==================== ${preset} ===================="
  start=$SECONDS
  log="$logdir/${preset}"

  if ! cmake --preset "$preset" "${configure_args[@]}" >"$log.configure.log" 2>&1; then
    tail -n 60 "$log.configure.log"
    echo "test.sh: ${preset}: configure FAILED (full log: $log.configure.log)"
    total_failed=$((total_failed + 1))
    report+=("${preset}: configure failed")
    continue
  fi
  # Keep going past a broken target (ninja -k 0): tests whose executable did not build show up
  # in ctest as failures (*_NOT_BUILT), the rest still run; the build itself counts as one.
  build_note=""
  if ! cmake --build --preset "$preset" -j "$jobs" -- -k 0 >"$log.build.log" 2>&1; then
    grep -E -A 12 "error|FAILED" "$log.build.log" | head -n 150
    echo "test.sh: ${preset}: build FAILED (full log: $log.build.log)"
    total_failed=$((total_failed + 1))
    build_note=", build failed"
  else
    echo "test.sh: ${preset}: built in $((SECONDS - start)) s"
  fi

  ctest --preset "$preset" -j "$jobs" 2>&1 | tee "$log.ctest.log"
  summary=$(grep -E "[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+" "$log.ctest.log" | tail -n 1)
  if [ -z "$summary" ]; then
    echo "test.sh: ${preset}: no ctest summary found"
    total_failed=$((total_failed + 1))
    report+=("${preset}: ctest gave no summary${build_note}")
    continue
  fi
  failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")
  total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$summary")
  passed=$((total - failed))
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  report+=("${preset}: ${passed} passed, ${failed} failed${build_note} ($((SECONDS - start)) s)")
  # The failed tests by name, so that the summary (the last lines a CI log keeps) says which.
  while IFS= read -r line; do
    report+=("    FAILED ${line}")
  done < <(sed -n '/The following tests FAILED:/,/^$/p' "$log.ctest.log" | grep -E '^[[:space:]]+[0-9]+ - ' |
             sed -E 's/^[[:space:]]+//' | head -n 20)
done

echo
echo "==================== summary ===================="
for line in "${report[@]}"; do
  echo "  $line"
done
echo "  wall time: $((SECONDS - start_all)) s"
echo "${total_passed} passed, ${total_failed} failed"
[ "$total_failed" -eq 0 ]
