"""PyTorch peer of core/classify/pgd_parity_test.go.

Usage: pgd_parity.py DIR

Reads DIR/in.npz (weights under their nn.Params names, x (N,1,28,28),
y (N,) int64, start (N,1,28,28)) and DIR/spec.json (conv stages, eps,
alpha, steps), runs l_inf PGD with the cross-entropy loss from the given
start, keeping the per-point worst iterate as robust.PGD does (a point
counts as broken if any of the Steps+1 iterates is misclassified), and
writes DIR/out.npz: robust (N,) uint8 and margin (N,) float32 (the
smallest z_y - max_{j != y} z_j over the iterates).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def main(d):
    spec = json.load(open(os.path.join(d, "spec.json")))
    z = np.load(os.path.join(d, "in.npz"))
    w = {k: torch.from_numpy(z[k]) for k in z.files}
    x = w.pop("x")
    y = w.pop("y")
    start = w.pop("start")
    convs, nfc = spec["convs"], spec["fcs"]

    def logits(v):
        h = v
        for i, c in enumerate(convs):
            h = F.conv2d(h, w["conv%d.weight" % (i + 1)], w["conv%d.bias" % (i + 1)], padding=c["pad"])
            h = F.max_pool2d(F.relu(h), 2)
        h = h.reshape(h.shape[0], -1)
        for i in range(nfc):
            h = F.linear(h, w["fc%d.weight" % (i + 1)], w["fc%d.bias" % (i + 1)])
            if i < nfc - 1:
                h = F.relu(h)
        return h

    eps, alpha, steps = spec["eps"], spec["alpha"], spec["steps"]
    eps_t = torch.tensor(eps, dtype=torch.float32)
    lo = torch.clamp(x - eps_t, min=0.0)
    hi = torch.clamp(x + eps_t, max=1.0)
    n = x.shape[0]
    fooled = torch.zeros(n, dtype=torch.bool)
    margin = torch.full((n,), float("inf"))

    def track(zz):
        nonlocal fooled, margin
        with torch.no_grad():
            zy = zz.gather(1, y[:, None])[:, 0]
            other = zz.clone()
            other[torch.arange(n), y] = -float("inf")
            m = zy - other.max(1).values
            f = zz.argmax(1) != y
            better = (f & ~fooled) | ((f == fooled) & (m < margin))
            margin = torch.where(better, m, margin)
            fooled = fooled | f

    xa = torch.min(torch.max(start, lo), hi)
    for _ in range(steps):
        xa = xa.detach().requires_grad_(True)
        zz = logits(xa)
        track(zz)
        loss = F.cross_entropy(zz, y, reduction="sum")
        (g,) = torch.autograd.grad(loss, xa)
        with torch.no_grad():
            xa = torch.min(torch.max(xa + alpha * torch.sign(g), lo), hi)
    with torch.no_grad():
        track(logits(xa))
    np.savez(os.path.join(d, "out.npz"), robust=(~fooled).numpy().astype(np.uint8),
             margin=margin.numpy().astype(np.float32))


if __name__ == "__main__":
    main(sys.argv[1])
