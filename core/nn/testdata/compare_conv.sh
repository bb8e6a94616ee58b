#!/bin/sh
# Side-by-side conv2d figures: this package (bench registry cases through
# BenchmarkConv2d) and PyTorch (bench_conv.py), interleaved shape by shape,
# ROUNDS times each, on THREADS threads. Prints "kernel cdp pytorch ratio"
# with the best GFLOP/s of the rounds (the least disturbed by other load).
# Usage (from the repository root): sh core/nn/testdata/compare_conv.sh [ROUNDS] [THREADS]
set -e
ROUNDS=${1:-3}
THREADS=${2:-2}
TMP=$(mktemp -d)
go test -c -o "$TMP/nn.test" ./core/nn/
SHAPES=$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, "core/nn/testdata"); import bench_conv; print(" ".join(s[0] for s in bench_conv.SHAPES))')
for s in $SHAPES; do
  r=0
  while [ $r -lt "$ROUNDS" ]; do
    "$TMP/nn.test" -test.run XXX -test.bench "Conv2d/.*/^$s\$/.*/threads=$THREADS\$" -test.benchtime 0.5s |
      awk -v s="$s" '/GFLOP/ { split($1, a, "/"); print "conv2d/" a[2] "/" s, "cdp", $(NF-1) }' >> "$TMP/res"
    /usr/bin/python3 core/nn/testdata/bench_conv.py "$THREADS" 0.5 "$s" |
      /usr/bin/python3 -c 'import sys, json
for l in sys.stdin:
    d = json.loads(l); print(d["kernel"], "pytorch", d["gflops"])' >> "$TMP/res"
    r=$((r + 1))
  done
done
awk '{ k = $1; if ($3 > best[k, $2]) best[k, $2] = $3; seen[k] = 1; order[k] = order[k] ? order[k] : ++n; name[order[k]] = k }
  END { printf "%-32s %8s %8s %6s\n", "kernel (GFLOP/s, best of rounds)", "cdp", "pytorch", "ratio";
        for (i = 1; i <= n; i++) { k = name[i]; c = best[k, "cdp"]; p = best[k, "pytorch"];
          printf "%-32s %8.1f %8.1f %6.2f\n", k, c, p, (p > 0 ? c / p : 0) } }' "$TMP/res"
rm -rf "$TMP"
