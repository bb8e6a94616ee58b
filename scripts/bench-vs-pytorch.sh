#!/bin/sh
# Side-by-side timings of cdp and PyTorch (1.13 CPU, /usr/bin/python3) on the
# same shapes and thread count: the conv2d cases of unet-small (batch 64),
# unet-small forward on 128 and a training step on 64, plus the guided and
# unguided sampling steps (cdp only; their ratio is the guidance overhead).
# The two run interleaved, ROUNDS times, and the best time of the rounds is
# kept (the least disturbed by other load on the machine).
#
# Usage (from the repository root):
#   sh scripts/bench-vs-pytorch.sh [ROUNDS] [THREADS] [CONV_FILTER]
# CONV_FILTER is a regular expression on the conv shape names (default: the
# 3x3 convolutions with 32 and 64 channels); "none" skips the convolutions.
# Prints "kernel cdp-ms pytorch-ms cdp/pytorch" (ratio < 1: cdp is faster)
# and GFLOP/s for the convolutions. Takes a few minutes.
set -e
ROUNDS=${1:-3}
THREADS=${2:-2}
CONVS=${3:-'3x3-(32-32x32|64-16x16|64-8x8)'}
PY=${PYTHON:-/usr/bin/python3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
go build -o "$TMP/cdp" ./native/cdp
SHAPES=""
if [ "$CONVS" != none ]; then
  SHAPES=$("$PY" -c 'import re, sys; sys.path.insert(0, "core/nn/testdata"); import bench_conv
print(" ".join(s[0] for s in bench_conv.SHAPES if re.fullmatch(sys.argv[1], s[0])))' "$CONVS")
fi
# tojsonl: cdp bench --json (an array) or the PyTorch scripts' output (one
# object per line, or one array) -> "kernel impl ns_per_op gflops" lines.
tolines() {
  "$PY" -c 'import json, sys
text = sys.stdin.read().strip()
items = []
for line in text.splitlines() if not text.startswith("[") or "\n{" in text else [text]:
    line = line.strip()
    if not line or line in "[]":
        continue
    v = json.loads(line)
    items += v if isinstance(v, list) else [v]
for d in items:
    print(d["kernel"], d["impl"], d["ns_per_op"], d.get("gflops", 0))'
}
r=0
while [ "$r" -lt "$ROUNDS" ]; do
  for s in $SHAPES; do
    "$TMP/cdp" bench --json --time 1s --threads "$THREADS" --filter "^conv2d/(fwd|bwd)/$s\$" | tolines >> "$TMP/res"
    "$PY" core/nn/testdata/bench_conv.py "$THREADS" 1.0 "$s" | tolines >> "$TMP/res"
  done
  "$TMP/cdp" bench --json --time 2s --threads "$THREADS" --filter '^(unet-small/(forward-b128|train-b64)|(un)?guided-step/.*)$' | tolines >> "$TMP/res"
  "$PY" core/unet/testdata/unet.py bench --threads "$THREADS" | tolines >> "$TMP/res"
  # Robustness (bench/robust.go, core/classify/testdata/bench_robust.py): a TRADES epoch and the standard-evaluation attacks at worst-case cost.
  "$TMP/cdp" bench --json --time 1ms --threads "$THREADS" --filter '^(trades-epoch|eval-(apgd-ce|apgd-t1|square100))/mnist-net$' | tolines >> "$TMP/res"
  "$PY" core/classify/testdata/bench_robust.py --threads "$THREADS" | tolines >> "$TMP/res"
  r=$((r + 1))
done
"$PY" - "$TMP/res" "$ROUNDS" "$THREADS" <<'PYEOF'
import sys
best, gf, order = {}, {}, []
for line in open(sys.argv[1]):
    k, impl, ns, g = line.split()
    ns, g = float(ns), float(g)
    if k not in order:
        order.append(k)
    if ns < best.get((k, impl), float("inf")):
        best[(k, impl)] = ns
        gf[(k, impl)] = g
print(f"best of {sys.argv[2]} rounds, {sys.argv[3]} threads")
print(f"{'kernel':36s} {'cdp ms':>9s} {'torch ms':>9s} {'cdp/torch':>9s} {'cdp GF/s':>9s} {'torch GF/s':>10s}")
for k in order:
    c, p = best.get((k, "cdp")), best.get((k, "pytorch"))
    fmt = lambda v: f"{v / 1e6:9.1f}" if v else f"{'-':>9s}"
    ratio = f"{c / p:9.2f}" if c and p else f"{'-':>9s}"
    g1 = f"{gf[(k, 'cdp')]:9.1f}" if gf.get((k, "cdp")) else f"{'-':>9s}"
    g2 = f"{gf[(k, 'pytorch')]:10.1f}" if gf.get((k, "pytorch")) else f"{'-':>10s}"
    print(f"{k:36s} {fmt(c)} {fmt(p)} {ratio} {g1} {g2}")
g, u = best.get(("guided-step/mnist-net", "cdp")), best.get(("unguided-step/unet-small", "cdp"))
if g and u:
    print(f"guided/unguided step: {g / u:.3f}")
PYEOF
