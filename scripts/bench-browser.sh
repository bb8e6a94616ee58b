#!/usr/bin/env bash
# bench-browser.sh: unet-small forward pass in the browser, cdp against
# onnxruntime-web, side by side in one headless Chromium session (issue 7:
# "at least as fast as onnxruntime-web 1.30 on one thread").
#
#   scripts/bench-browser.sh [--json] [--batch 16] [--reps 5] [--rounds 3]
#       [--builds relaxed,simd128,none] [--slow-reps 1] [--seed 1] [--no-build]
#   scripts/bench-browser.sh --smoke     the page test instead (scripts/browser/page.test.mjs)
#
# cdp runs cdp.benchUNet (www/cdp.wasm) in one Web Worker per kernel build;
# onnxruntime-web 1.30 runs the same architecture exported from PyTorch
# (core/unet/testdata/unet.py, scripts/browser/export_onnx.py) with the wasm
# backend, numThreads 1, SIMD, in another worker; both get the same weights
# and inputs, and their outputs must agree (relative L2 error < 1e-3). The
# implementations take turns round by round; each round times REPS forward
# passes after one warm-up (the generic "none" build: SLOW_REPS). Prints
# image-steps/s (median and the range of the round medians) and the speed
# ratio cdp/onnxruntime-web (> 1: cdp is faster), or JSON with --json.
#
# It installs what is missing: Debian's chromium and python3-torch (apt),
# playwright-core and onnxruntime-web@1.30.0 (npm) into .cache/browser/ (never
# the `playwright` package, which downloads a browser of its own). Serves on
# 127.0.0.1 only; Chromium gets a fresh profile each run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cache="${CDP_BROWSER_CACHE:-$root/.cache/browser}"
export CDP_BROWSER_CACHE="$cache"
PLAYWRIGHT_CORE_VERSION=1.65.1
ORT_VERSION=1.30.0

# shellcheck source=need.sh
. "$root/scripts/need.sh"

# need_npm NAME@VERSION... installs the npm packages missing from $cache.
need_npm() {
  local missing=()
  for spec in "$@"; do
    local name=${spec%@*} version=${spec##*@}
    local have
    have=$(node -p "require('$cache/node_modules/$name/package.json').version" 2>/dev/null || true)
    [ "$have" = "$version" ] || missing+=("$spec")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v npm >/dev/null || need_apt npm
  mkdir -p "$cache"
  [ -f "$cache/package.json" ] || echo '{ "private": true, "name": "cdp-browser-deps", "version": "0.0.0" }' >"$cache/package.json"
  say "installing ${missing[*]} (npm, into $cache)"
  npm install --prefix "$cache" --no-audit --no-fund --loglevel=error --save-exact "${missing[@]}" >/dev/null
}

smoke=""
build=1
args=()
for a in "$@"; do
  case "$a" in
  --smoke) smoke=1 ;;
  --no-build) build="" ;;
  -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) args+=("$a") ;;
  esac
done

command -v node >/dev/null || need_apt nodejs
need_apt chromium
if [ -n "$smoke" ]; then
  need_npm "playwright-core@$PLAYWRIGHT_CORE_VERSION"
else
  need_npm "playwright-core@$PLAYWRIGHT_CORE_VERSION" "onnxruntime-web@$ORT_VERSION"
fi
if [ -n "$build" ]; then
  ./build.sh wasm >&2
fi

if [ -n "$smoke" ]; then
  say "page test in headless Chromium (node --test scripts/browser/)"
  exec node --test scripts/browser/
fi

# The ONNX model and its weights, exported again when unet.py, the exporter
# or the batch changed.
need_apt python3-torch python3-numpy
batch=16
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
  --batch) batch="${args[$((i + 1))]:-16}" ;;
  --batch=*) batch="${args[$i]#--batch=}" ;;
  esac
done
model="$cache/model-b$batch"
if [ ! -f "$model/export.json" ] || [ core/unet/testdata/unet.py -nt "$model/export.json" ] ||
  [ scripts/browser/export_onnx.py -nt "$model/export.json" ]; then
  say "exporting unet-small (batch $batch) to ONNX with PyTorch"
  /usr/bin/python3 scripts/browser/export_onnx.py "$model" "$batch" 1 >/dev/null
fi
say "timing in headless Chromium (this takes a few minutes)"
exec node scripts/browser/bench.mjs --model-dir "$model" "${args[@]}"
