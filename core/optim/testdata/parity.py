"""Runs torch's optimisers and schedulers on the gradient sequence that
core/optim's parity test writes, and writes the trajectories back.

Usage: parity.py DIR. DIR holds config.json, w0.bin (float32, n) and
grads.bin (float32, steps x n), little-endian. For every case it writes
DIR/out_<case>.bin (float32, steps x n: parameters after each step, or the
EMA after each update), DIR/norm_<case>.bin (float64, steps: gradient norms
before clipping) when the case clips, and DIR/sched_<case>.bin (float64,
steps x 2: learning rate and momentum of each step) for schedule cases.
"""
import json
import os
import sys

import numpy as np
import torch

torch.set_num_threads(1)
d = sys.argv[1]
cfg = json.load(open(os.path.join(d, "config.json")))
n, steps = cfg["n"], cfg["steps"]
tensors = cfg["tensors"]
w0 = np.fromfile(os.path.join(d, "w0.bin"), dtype="<f4")
grads = np.fromfile(os.path.join(d, "grads.bin"), dtype="<f4").reshape(steps, n)
assert w0.shape == (n,)


def make_params():
    return [torch.tensor(w0[t["offset"]:t["offset"] + t["len"]].copy(), requires_grad=True) for t in tensors]


def param_groups(ps, wd):
    decay = [p for p, t in zip(ps, tensors) if not t["no_decay"]]
    keep = [p for p, t in zip(ps, tensors) if t["no_decay"]]
    return [{"params": decay, "weight_decay": wd}, {"params": keep, "weight_decay": 0.0}]


def flat(ps):
    return torch.cat([p.detach().reshape(-1) for p in ps]).numpy()


def warmup_cosine_lrs(s, count):
    """LRs of steps 0..count-1 from torch's LinearLR then CosineAnnealingLR."""
    base, w = s["base"], s["warmup"]
    lrs = []
    if w > 0:
        dummy = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
        lin = torch.optim.lr_scheduler.LinearLR(dummy, start_factor=1.0 / w, end_factor=1.0, total_iters=w - 1)
        for _ in range(w):
            lrs.append(dummy.param_groups[0]["lr"])
            dummy.step()
            lin.step()
    dummy = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
    if s["kind"] != "cosine":
        return lrs + [base] * (count - len(lrs))
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(dummy, T_max=s["total"] - w, eta_min=s["floor"])
    while len(lrs) < count:
        lrs.append(dummy.param_groups[0]["lr"])
        dummy.step()
        cos.step()
    return lrs


def one_cycle(opt, s):
    return torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=s["max_lr"], total_steps=s["total"], pct_start=s["pct_start"],
        div_factor=s["div_factor"], final_div_factor=s["final_div_factor"],
        base_momentum=s["base_momentum"], max_momentum=s["max_momentum"],
        cycle_momentum=True, anneal_strategy="cos", three_phase=False)


def momentum_of(opt):
    g = opt.param_groups[0]
    return g["betas"][0] if "betas" in g else g["momentum"]


def run_schedule(c):
    s = c["schedule"]
    count = c["count"]
    out = np.zeros((count, 2), dtype="<f8")
    if s["kind"] == "onecycle":
        kind = c.get("for", "sgd")
        p = torch.zeros(1, requires_grad=True)
        if kind == "adam":
            opt = torch.optim.Adam([p], lr=s["max_lr"])
        else:
            opt = torch.optim.SGD([p], lr=s["max_lr"], momentum=0.9)
        sch = one_cycle(opt, s)
        for k in range(count):
            out[k] = (opt.param_groups[0]["lr"], momentum_of(opt))
            opt.step()
            if k < count - 1:
                sch.step()
    else:
        out[:, 0] = warmup_cosine_lrs(s, count)
    out.tofile(os.path.join(d, "sched_%s.bin" % c["name"]))


def run_ema(c):
    decay, warm = c["decay"], c.get("warmup", False)
    ema = torch.tensor(w0.copy())
    out = np.zeros((steps, n), dtype="<f4")
    for k in range(steps):
        dk = min(decay, (1.0 + k) / (10.0 + k)) if warm else decay
        ema.mul_(dk).add_(torch.from_numpy(grads[k].copy()), alpha=1 - dk)
        out[k] = ema.numpy()
    out.tofile(os.path.join(d, "out_%s.bin" % c["name"]))


def run_opt(c):
    ps = make_params()
    groups = param_groups(ps, c["wd"])
    kind = c["opt"]
    if kind == "sgd":
        opt = torch.optim.SGD(groups, lr=c["lr"], momentum=c["momentum"], nesterov=c["nesterov"], dampening=0)
    elif kind == "adam":
        opt = torch.optim.Adam(groups, lr=c["lr"], betas=(c["beta1"], c["beta2"]), eps=c["eps"])
    elif kind == "adamw":
        opt = torch.optim.AdamW(groups, lr=c["lr"], betas=(c["beta1"], c["beta2"]), eps=c["eps"])
    else:
        raise ValueError(kind)
    s = c.get("schedule")
    sch, lrs = None, None
    if s is not None and s["kind"] == "onecycle":
        sch = one_cycle(opt, s)
    elif s is not None:
        lrs = warmup_cosine_lrs(s, steps)
    out = np.zeros((steps, n), dtype="<f4")
    norms = np.zeros(steps, dtype="<f8")
    for k in range(steps):
        if lrs is not None:
            for g in opt.param_groups:
                g["lr"] = lrs[k]
        for p, t in zip(ps, tensors):
            p.grad = torch.from_numpy(grads[k, t["offset"]:t["offset"] + t["len"]].copy())
        if c.get("clip", 0) > 0:
            norms[k] = float(torch.nn.utils.clip_grad_norm_(ps, c["clip"]))
        opt.step()
        if sch is not None:
            sch.step()
        out[k] = flat(ps)
    out.tofile(os.path.join(d, "out_%s.bin" % c["name"]))
    if c.get("clip", 0) > 0:
        norms.tofile(os.path.join(d, "norm_%s.bin" % c["name"]))


for c in cfg["cases"]:
    if c["opt"] == "ema":
        run_ema(c)
    elif c["opt"] == "schedule":
        run_schedule(c)
    else:
        run_opt(c)
