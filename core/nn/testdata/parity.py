#!/usr/bin/python3
"""PyTorch reference for core/nn parity tests.

Usage: parity.py DIR

DIR/spec.json lists cases {name, op, attrs, inputs, grads}. Each input is
DIR/<name>.<input>.npy (float32). For every case this script computes the
output y with torch (float32, CPU), backpropagates L = sum(y * dy) (dy is an
input) and writes DIR/<name>.out.y.npy plus DIR/<name>.out.d<input>.npy for
every input listed in grads (and extra outputs named per op).
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def attention_core(h, qw, qb, pw, pb):
    n, c, hh, ww = h.shape
    qkv = F.conv2d(h, qw, qb).reshape(n, 3, c, hh * ww)
    q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]
    w = torch.softmax(torch.einsum("nci,ncj->nij", q, k) / math.sqrt(c), dim=-1)
    o = torch.einsum("nij,ncj->nci", w, v).reshape(n, c, hh, ww)
    return F.conv2d(o, pw, pb)


def attention_block(x, a, pre, groups):
    h = F.group_norm(x, groups, a[pre + ".norm.weight"], a[pre + ".norm.bias"], 1e-5)
    return x + attention_core(h, a[pre + ".qkv.weight"], a[pre + ".qkv.bias"],
                              a[pre + ".proj.weight"], a[pre + ".proj.bias"])


def run(case, a, extra):
    op, at = case["op"], (case.get("attrs") or {})
    g = lambda k: int(at[k])
    if op == "conv":
        return F.conv2d(a["x"], a["weight"], a.get("bias"), stride=g("stride"), padding=g("pad"))
    if op == "linear":
        return F.linear(a["x"], a["weight"], a["bias"])
    if op == "groupnorm":
        return F.group_norm(a["x"], g("groups"), a["weight"], a["bias"], 1e-5)
    if op == "batchnorm":
        rm, rv = a["running_mean"].detach().clone(), a["running_var"].detach().clone()
        y = F.batch_norm(a["x"], rm, rv, a["weight"], a["bias"], training=bool(g("train")),
                         momentum=0.1, eps=1e-5)
        extra["running_mean"], extra["running_var"] = rm, rv
        return y
    if op == "attention":
        return attention_block(a["x"], a, "attn", g("groups"))
    if op == "selfattention":
        return attention_core(a["x"], a["attn.qkv.weight"], a["attn.qkv.bias"],
                              a["attn.proj.weight"], a["attn.proj.bias"])
    if op == "stack":
        h = F.conv2d(a["x"], a["conv.weight"], a["conv.bias"], stride=1, padding=1)
        h = F.silu(F.group_norm(h, g("groups"), a["gn.weight"], a["gn.bias"], 1e-5))
        h = attention_block(h, a, "attn", g("groups"))
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        return F.conv2d(h, a["out.weight"], a["out.bias"], stride=2, padding=1)
    if op == "silu":
        return F.silu(a["x"])
    if op == "relu":
        return F.relu(a["x"])
    if op == "maxpool":
        return F.max_pool2d(a["x"], g("k"), g("stride"))
    if op == "avgpool":
        return F.avg_pool2d(a["x"], g("k"), g("stride"))
    if op == "upsample":
        return F.interpolate(a["x"], scale_factor=2, mode="nearest")
    if op == "ce":
        return F.cross_entropy(a["logits"], a["labels"].long(), label_smoothing=at["smoothing"])
    if op == "kl":
        return F.kl_div(F.log_softmax(a["q"], dim=1), F.softmax(a["p"], dim=1), reduction="batchmean")
    if op == "mse":
        return F.mse_loss(a["y"], a["target"])
    if op == "temb":
        t = a["t"].double()
        half = g("dim") // 2
        f = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float64) / half)
        arg = t[:, None] * f[None, :]
        return torch.cat([torch.sin(arg), torch.cos(arg)], dim=1).float()
    raise ValueError("unknown op " + op)


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "spec.json")) as f:
        spec = json.load(f)
    for case in spec:
        name = case["name"]
        a = {}
        for k in case["inputs"]:
            arr = np.load(os.path.join(d, "%s.%s.npy" % (name, k)))
            a[k] = torch.from_numpy(arr).requires_grad_(k in ((case.get("grads") or []) or []))
        extra = {}
        y = run(case, a, extra)
        if "dy" in a:
            loss = (y * a["dy"].reshape(y.shape)).sum()
        else:
            loss = y.sum() if y.dim() == 0 else None
        if loss is not None and (case.get("grads") or []):
            loss.backward()
        out = {"y": y}
        for k in ((case.get("grads") or []) or []):
            out["d" + k] = a[k].grad
        out.update(extra)
        for k, v in out.items():
            v = v.detach().numpy().astype(np.float32)
            np.save(os.path.join(d, "%s.out.%s.npy" % (name, k)), np.ascontiguousarray(v))


if __name__ == "__main__":
    main()
