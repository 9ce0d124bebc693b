#!/usr/bin/env bash
# Builds nnmeter (Release, in build/), then: detects the kernels of nn-Meter's MobileNetV3-small
# IR under its TFLite-CPU rules; writes a model with the zoo as ONNX; predicts its latency with
# the default predictor (per-kernel table); measures it on this machine's CPU through XNNPACK
# under the predictor's protocol; prints the two side by side. When this CPU is not the one the
# predictor was built on, it first calibrates the predictor to it (`nnmeter calibrate`, about 15
# seconds; the adapted predictor goes into build/demo/config, not your own registry).
# Usage: scripts/demo.sh [--family F] [--seed S]     (default: mobilenetv2, seed 42)
# SPDX-License-Identifier: MIT
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

family=mobilenetv2
seed=42
while [ $# -gt 0 ]; do
  case "$1" in
    --family) family="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown argument '$1' (--family F, --seed S)" >&2; exit 2 ;;
  esac
done

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

nnmeter=build/bin/nnmeter
demo=build/demo
rm -rf "$demo"
mkdir -p "$demo"
# A registry of the demo's own: a calibration made here does not touch the user's.
export NNMETER_CONFIG_DIR="$PWD/$demo/config"

echo
echo "== 1. kernels of nn-Meter's MobileNetV3-small under its TFLite-CPU fusion rules"
(set -x; "$nnmeter" kernels --nnmeter-ir tests/data/mobilenetv3small_0.ir.json \
                             --rules tests/data/rule_tflite_cpu.json)

echo
echo "== 2. a ${family} model from the zoo, as ONNX"
(set -x; "$nnmeter" zoo --family "$family" --count 1 --seed "$seed" --out "$demo/models")
model="$demo/models/${family}_0000.onnx"

echo
echo "== 3. its predicted latency"
"$nnmeter" predict --onnx "$model" --json >"$demo/predict.json"
if grep -q '"this_cpu": false' "$demo/predict.json"; then
  echo "this CPU is not the default predictor's: calibrating it to this one first"
  (set -x; "$nnmeter" calibrate)
fi
(set -x; "$nnmeter" predict --onnx "$model" --verbose)
"$nnmeter" predict --onnx "$model" --json >"$demo/predict.json"

echo
echo "== 4. its measured latency (XNNPACK, this CPU, the predictor's protocol)"
# Whole models as the default predictor's context factor was fitted on them
# (docs/default-predictor.md): thread-CPU clock, 5 blocks of 10 invokes after a 0.05 s warm-up,
# in 4 memory layouts of one pass each, the median of the layouts' minima.
(set -x; "$nnmeter" profile --backend xnnpack --onnx "$model" --clock thread-cpu \
                             --layouts 4 --passes 4 --blocks 5 --runs 10 --warmup 0.05 --json \
                             >"$demo/profile.json")

echo
echo "== 5. predicted and measured, side by side"
python3 - "$demo/predict.json" "$demo/profile.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
m = json.load(open(sys.argv[2]))
pred, meas = p["latency_ms"], m["latency_ms"]
print(f"model      {p['model']}")
print(f"predictor  {p['predictor']['name']} ({p['predictor']['device']})")
print(f"predicted  {pred:10.4f} ms   ({p['kernels_total']} kernels, "
      f"{p['kernels_fallback']} from fallback estimates)")
print(f"measured   {meas:10.4f} ms   (median of {len(m['layout_min_ms'])} memory layouts' minima, "
      f"{m['statistics']['runs']} timed invokes)")
print(f"error      {100.0 * (pred - meas) / meas:+10.1f} %")
EOF
