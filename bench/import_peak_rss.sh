#!/usr/bin/env bash
# Peak RSS (and wall time) of `nnmeter kernels` on large generated models and on hostile files
# (issue 8: refusing /dev/zero, a 3 GB sparse file and 10^5-deep nesting must stay <= 64 MB).
#
# Usage: bench/import_peak_rss.sh <build dir> [sizes]
#   <build dir>  a build with the `nnmeter` program (bin/nnmeter) and, for the generated models,
#                bench_import_scaling (NNMETER_BUILD_BENCH=ON); e.g. build/ from
#                `cmake --preset release -DNNMETER_BUILD_BENCH=ON`
# Models: `bench_import_scaling --write-models=<tmp>` (nn-Meter IR and ONNX, chain and fan-out,
# 10^4 / 10^5 / 10^6 nodes), nn-Meter's own tests/data/mobilenetv3small_0.ir.json, and the
# hostile files of docs/bad-input.md ("CLI options and files"), written to a temporary folder
# that is removed at the end (the 3 GB file is sparse: it takes no disk space).
# Each run: /usr/bin/time -f '%M %e' nnmeter kernels <model option> <file> >/dev/null, so the
# figure covers the whole command: reading, import, validation, kernel detection and printing
# the kernel list (to /dev/null). One line per run:
#   <case>  exit <status>  peak_rss_mib <MiB>  wall_s <seconds>  [first line of stderr]
# SPDX-License-Identifier: MIT
set -uo pipefail

if [ $# -lt 1 ]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit 2
fi
build=$1
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
nnmeter="$build/bin/nnmeter"
scaling="$build/bench/bench_import_scaling"
[ -x "$nnmeter" ] || { echo "import_peak_rss.sh: no $nnmeter (build the nnmeter target)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "import_peak_rss.sh: needs GNU time (/usr/bin/time)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nnmeter_peak_rss.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

run() {  # run <case> <model option> <file>
  local name=$1 opt=$2 file=$3 rc
  /usr/bin/time -f '%M %e' -o "$tmp/time" "$nnmeter" kernels "$opt" "$file" \
    >/dev/null 2>"$tmp/stderr"
  rc=$?
  # GNU time puts "Command exited with non-zero status N" before the figures: the last line.
  local kib secs msg
  read -r kib secs < <(tail -n 1 "$tmp/time")
  msg=$(head -n 1 "$tmp/stderr" | cut -c 1-120)
  printf '%-28s exit %d  peak_rss_mib %7.1f  wall_s %6.2f  %s\n' \
    "$name" "$rc" "$(awk "BEGIN { print $kib / 1024 }")" "$secs" "$msg"
}

# Hostile files: refused, each with a small peak RSS.
truncate -s 3G "$tmp/sparse_3g.json"
truncate -s 3G "$tmp/sparse_3g.onnx"
python3 - "$tmp/deep_1e5.json" <<'EOF'
import sys
levels = 100000
prefix = '{"x": {"inbounds": [], "attr": {"type": "Relu", "output_shape": [[1, 4]], "attr": {"deep": '
open(sys.argv[1], "w").write(prefix + "[" * levels + "]" * levels + "}}}}")
EOF
run ir_dev_zero --nnmeter-ir /dev/zero
run ir_sparse_3GB --nnmeter-ir "$tmp/sparse_3g.json"
run ir_nesting_1e5 --nnmeter-ir "$tmp/deep_1e5.json"
run onnx_dev_zero --onnx /dev/zero
run onnx_sparse_3GB --onnx "$tmp/sparse_3g.onnx"

# Valid models: imported, every kernel listed.
run ir_mobilenetv3small_0 --nnmeter-ir "$src/tests/data/mobilenetv3small_0.ir.json"
if [ -x "$scaling" ]; then
  "$scaling" --write-models="$tmp" >/dev/null || exit 1
  for f in "$tmp"/ir_*.ir.json "$tmp"/onnx_*.onnx; do
    base=$(basename "$f")
    case "$f" in
      *.onnx) run "${base%.onnx}" --onnx "$f" ;;
      *) run "${base%.ir.json}" --nnmeter-ir "$f" ;;
    esac
  done
else
  echo "import_peak_rss.sh: no $scaling (NNMETER_BUILD_BENCH=ON): generated models skipped" >&2
fi
