"""PyTorch peer of the robustness cases of bench/robust.go: the same work
on the same shapes, 2 threads by default, timed best of ROUNDS.

Usage: bench_robust.py [--threads T] [--rounds R] [--cases a,b,...]
Prints one JSON object per case: {"kernel", "impl": "pytorch", "shape",
"threads", "ns_per_op", "iterations"}.

What is compared (AutoAttack is not installed here, so the attacks are
written out with the same passes and the same element-wise work):
  trades-epoch/mnist-net: 40 TRADES steps of batch 128 (2,500 real + 2,500
    stand-in synthetic MNIST images, half of each batch from each): per step
    the clean softmax in eval mode, x' = x + 0.001 N(0, I), 10 sign steps of
    2.5 eps/10 on KL(p(x) || p(x')) (forward + input backward each),
    projection onto the l_inf ball of 0.3 and [0, 1], then one train-mode
    forward of [x; x'] (as cdp does), CE + 6 KL (batchmean), backward and
    an SGD step (momentum 0.9, Nesterov, weight decay 5e-4).
  eval-apgd-ce/mnist-net: APGD-CE on 256 points, eps 0.3: one gradient at
    the start and 100 steps (forward + input backward each, 101 in all),
    the APGD update (sign step, momentum 0.75, two projections), per-point
    best-loss tracking and the step-size checkpoints, plus the final
    accuracy pass; the classifier is pinned (+1e4 on class 0, labels 0) so
    that no point is ever fooled, as in the Go case.
  eval-apgd-t1/mnist-net: the same with one target and the targeted DLR
    loss, plus the clean forward that orders the targets.
  eval-square100/mnist-net: Square on 256 points, 100 queries: the stripe
    start and 99 iterations of one forward pass of the 256 points each with
    a random square window (side from the p schedule) of +-2 eps per point,
    projection, margin and acceptance.
"""
import argparse
import gzip
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
EMB = os.path.join(HERE, "..", "..", "data", "embedded")


def load(split):
    pre = "train" if split == "train" else "t10k"
    img = gzip.open(os.path.join(EMB, pre + "-images-idx3-ubyte.gz")).read()[16:]
    lab = gzip.open(os.path.join(EMB, pre + "-labels-idx1-ubyte.gz")).read()[8:]
    x = torch.from_numpy(np.frombuffer(img, np.uint8).reshape(-1, 1, 28, 28).astype(np.float32) / 255)
    y = torch.from_numpy(np.frombuffer(lab, np.uint8).astype(np.int64))
    return x, y


class MNISTNet(torch.nn.Module):
    """mnist-net: conv 5x5 (4) - ReLU - maxpool 2, conv 5x5 (10) - ReLU -
    maxpool 2, linear 160-100 - ReLU, linear 100-10."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 5)
        self.conv2 = torch.nn.Conv2d(4, 10, 5)
        self.fc1 = torch.nn.Linear(160, 100)
        self.fc2 = torch.nn.Linear(100, 10)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return self.fc2(F.relu(self.fc1(h.flatten(1))))


def project(x, x0, eps):
    return torch.min(torch.max(x, x0 - eps), x0 + eps).clamp(0, 1)


def trades_epoch(model, opt, xr, yr, xs, ys, gen, eps=0.3, steps=10, beta=6.0, b=128):
    alpha = 2.5 * eps / steps
    half = b // 2
    pr = torch.randperm(len(xr), generator=gen)
    ps = torch.randperm(len(xs), generator=gen)
    nsteps = math.ceil(len(xr) / half)
    for s in range(nsteps):
        ir = pr[(s * half) % len(xr):][:half]
        is_ = ps[(s * half) % len(xs):][:b - len(ir)]
        x = torch.cat([xr[ir], xs[is_]])
        y = torch.cat([yr[ir], ys[is_]])
        model.eval()
        with torch.no_grad():
            p = F.softmax(model(x), 1)
        xa = project(x + 0.001 * torch.randn(x.shape, generator=gen), x, eps)
        for _ in range(steps):
            xa.requires_grad_(True)
            loss = F.kl_div(F.log_softmax(model(xa), 1), p, reduction="sum")
            (g,) = torch.autograd.grad(loss, xa)
            xa = project(xa.detach() + alpha * g.sign(), x, eps)
        model.train()
        z = model(torch.cat([x, xa]))
        zc, za = z[: len(x)], z[len(x):]
        loss = F.cross_entropy(zc, y) + beta * F.kl_div(F.log_softmax(za, 1), F.softmax(zc, 1), reduction="batchmean")
        opt.zero_grad()
        loss.backward()
        opt.step()
    return nsteps


def pinned(model, x):
    z = model(x)
    return z + torch.tensor([1e4] + [0.0] * 9)


def dlr_targeted(z, y, t):
    zs = z.sort(1, descending=True).values
    zy = z.gather(1, y[:, None])[:, 0]
    zt = z.gather(1, t[:, None])[:, 0]
    return -(zy - zt) / (zs[:, 0] - 0.5 * (zs[:, 2] + zs[:, 3]) + 1e-12)


def apgd(model, x0, y, eps, loss_fn, gen, steps=100, rho=0.75):
    n = len(x0)
    t = 2 * torch.rand(x0.shape, generator=gen) - 1
    x = project(x0 + eps * t / t.flatten(1).abs().max(1).values.view(-1, 1, 1, 1), x0, eps)

    def grad(xx):
        xx = xx.clone().requires_grad_(True)
        z = pinned(model, xx)
        lv = loss_fn(z)
        (g,) = torch.autograd.grad(lv.sum(), xx)
        return lv.detach(), g, z.detach()

    # checkpoints
    p = [0, 0.22]
    while p[-1] < 1:
        p.append(p[-1] + max(p[-1] - p[-2] - 0.03, 0.06))
    marks = sorted(set(math.ceil(q * steps) for q in p if q <= 1))
    lv, g, z = grad(x)
    best, best_x = lv.clone(), x.clone()
    eta = torch.full((n, 1, 1, 1), 2 * eps)
    x_prev = x.clone()
    inc = torch.zeros(n)
    last_best = best.clone()
    fooled = torch.zeros(n, dtype=torch.bool)
    for it in range(steps):
        a = 1.0 if it == 0 else 0.75
        zn = project(x + eta * g.sign(), x0, eps)
        xn = project(x + a * (zn - x) + (1 - a) * (x - x_prev), x0, eps)
        x_prev, x = x, xn
        lv_new, g, z = grad(x)
        fooled |= z.argmax(1) != y
        inc += (lv_new > lv).float()
        lv = lv_new
        better = lv > best
        best = torch.where(better, lv, best)
        best_x[better] = x[better]
        if it + 1 in marks:
            cond = (inc <= rho * (it + 1)) | (best <= last_best)
            eta = torch.where(cond.view(-1, 1, 1, 1), eta / 2, eta)
            x = torch.where(cond.view(-1, 1, 1, 1), best_x, x)
            inc.zero_()
            last_best = best.clone()
    with torch.no_grad():
        pinned(model, best_x)
    return fooled


def square(model, x0, y, eps, queries, gen, p_init=0.8):
    n, c, h, w = x0.shape
    with torch.no_grad():
        s = (torch.randint(0, 2, (n, c, 1, w), generator=gen) * 2 - 1).float()
        x = project(x0 + eps * s, x0, eps)

        def margin(z):
            zy = z.gather(1, y[:, None])[:, 0]
            o = z.clone()
            o[torch.arange(n), y] = -float("inf")
            return zy - o.max(1).values

        m = margin(pinned(model, x))
        for it in range(1, queries):
            q = it * 10000 // queries
            pf = p_init / 2 ** sum(q > k for k in (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000))
            side = max(1, min(h, int(round(math.sqrt(pf * h * w)))))
            r = torch.randint(0, h - side + 1, (n,), generator=gen)
            cc = torch.randint(0, w - side + 1, (n,), generator=gen)
            rows = torch.arange(h).view(1, h, 1)
            cols = torch.arange(w).view(1, 1, w)
            mask = ((rows >= r.view(-1, 1, 1)) & (rows < (r + side).view(-1, 1, 1)) &
                    (cols >= cc.view(-1, 1, 1)) & (cols < (cc + side).view(-1, 1, 1))).unsqueeze(1).float()
            sg = (torch.randint(0, 2, (n, c, 1, 1), generator=gen) * 2 - 1).float()
            xc = project(x + mask * 2 * eps * sg, x0, eps)
            mc = margin(pinned(model, xc))
            acc = mc < m
            x = torch.where(acc.view(-1, 1, 1, 1), xc, x)
            m = torch.where(acc, mc, m)
        pinned(model, x)
    return m


def timeit(fn, rounds):
    fn()  # warm-up
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--cases", default="trades-epoch,eval-apgd-ce,eval-apgd-t1,eval-square100")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    model = MNISTNet()
    cases = a.cases.split(",")
    out = []
    if "trades-epoch" in cases:
        x, y = load("train")
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
        sec = timeit(lambda: trades_epoch(model, opt, x[:2500], y[:2500], x[2500:], y[2500:], gen), a.rounds)
        out.append(("trades-epoch/mnist-net", "5000x10steps-b128", sec))
    model.eval()
    xt, _ = load("test")
    xt = xt[:256]
    y0 = torch.zeros(256, dtype=torch.int64)
    if "eval-apgd-ce" in cases:
        sec = timeit(lambda: apgd(model, xt, y0, 0.3, lambda z: F.cross_entropy(z, y0, reduction="none"), gen), a.rounds)
        out.append(("eval-apgd-ce/mnist-net", "n256-eps0.3", sec))
    if "eval-apgd-t1" in cases:
        def one_target():
            with torch.no_grad():
                t = pinned(model, xt)[:, 1:].argmax(1) + 1
            apgd(model, xt, y0, 0.3, lambda z: dlr_targeted(z, y0, t), gen)
        sec = timeit(one_target, a.rounds)
        out.append(("eval-apgd-t1/mnist-net", "n256-eps0.3", sec))
    if "eval-square100" in cases:
        sec = timeit(lambda: square(model, xt, y0, 0.3, 100, gen), a.rounds)
        out.append(("eval-square100/mnist-net", "n256-eps0.3", sec))
    for k, shape, sec in out:
        print(json.dumps({"kernel": k, "impl": "pytorch", "shape": shape, "threads": a.threads,
                          "ns_per_op": sec * 1e9, "iterations": 1}), flush=True)


if __name__ == "__main__":
    main()
