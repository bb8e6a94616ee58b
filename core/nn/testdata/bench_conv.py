#!/usr/bin/python3
"""PyTorch peer of the conv2d cases in bench/conv.go (unet-small shapes).

Usage: bench_conv.py [THREADS [MIN_SECONDS]]

Prints one JSON object per line: {"kernel": "conv2d/fwd/3x3-32-32x32",
"impl": "pytorch", "shape": "b64", "threads": 2, "gflops": ..., "ns_per_op": ...}.
Forward runs under no_grad; backward is y.backward(dy) after one forward
(input and weight gradients), counted as twice the forward FLOPs.
"""
import json
import sys
import time

import torch

# name, N, Cin, Cout, H, W, K, stride, pad: keep in step with bench/conv.go.
SHAPES = [
    ("3x3-32-32x32", 64, 32, 32, 32, 32, 3, 1, 1),
    ("3x3-64-16x16", 64, 64, 64, 16, 16, 3, 1, 1),
    ("3x3-64-8x8", 64, 64, 64, 8, 8, 3, 1, 1),
    ("3x3-32to64-16x16", 64, 32, 64, 16, 16, 3, 1, 1),
    ("3x3s2-32-32x32", 64, 32, 32, 32, 32, 3, 2, 1),
    ("3x3s2-64-16x16", 64, 64, 64, 16, 16, 3, 2, 1),
    ("3x3-128to64-8x8", 64, 128, 64, 8, 8, 3, 1, 1),
    ("3x3-128to64-16x16", 64, 128, 64, 16, 16, 3, 1, 1),
    ("3x3-96to64-16x16", 64, 96, 64, 16, 16, 3, 1, 1),
    ("3x3-96to32-32x32", 64, 96, 32, 32, 32, 3, 1, 1),
    ("3x3-1to32-32x32", 64, 1, 32, 32, 32, 3, 1, 1),
    ("1x1-64to32-32x32", 64, 64, 32, 32, 32, 1, 1, 0),
]


def timeit(fn, min_time):
    fn()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        el = time.perf_counter() - t0
        if el >= min_time:
            return el / n, n
        n = max(n + 1, min(int(n * 1.2 * min_time / max(el, 1e-9)), 100 * n))


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    min_time = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    only = sys.argv[3] if len(sys.argv) > 3 else ""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    for name, n, cin, cout, h, w, k, s, p in SHAPES:
        if only and only not in name:
            continue
        conv = torch.nn.Conv2d(cin, cout, k, stride=s, padding=p)
        x = torch.randn(n, cin, h, w)
        ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        flops = 2.0 * n * cout * ho * wo * cin * k * k

        def fwd():
            with torch.no_grad():
                conv(x)

        xg = x.clone().requires_grad_(True)
        y = conv(xg)
        dy = torch.randn_like(y)

        def bwd():
            conv.zero_grad(set_to_none=False)
            y.backward(dy, retain_graph=True)

        for d, fn, f in (("fwd", fwd, flops), ("bwd", bwd, 2 * flops)):
            sec, iters = timeit(fn, min_time)
            print(json.dumps({"kernel": "conv2d/%s/%s" % (d, name), "impl": "pytorch", "shape": "b%d" % n,
                              "threads": threads, "gflops": f / sec / 1e9, "ns_per_op": sec * 1e9,
                              "iterations": iters}), flush=True)


if __name__ == "__main__":
    main()
