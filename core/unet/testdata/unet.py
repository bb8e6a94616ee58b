"""unet-small (MODELS.md) in PyTorch: the peer for cdp's parity tests and benchmarks.

Parameter names are the ones cdp uses in its .npz weight export, so
`model.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(path).items()})`
loads cdp weights directly.

usage:
  python3 unet.py count                       print the parameter count
  python3 unet.py bench [--threads 2]         time forward (b128) and a train step (b64), JSON
  python3 unet.py parity DIR                  read DIR/weights.npz, DIR/inputs.npz; write DIR/torch_out.npz
"""
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, emb, groups=8):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb, cout)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(F.silu(emb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (self.skip(x) if self.skip is not None else x)


class Attention(nn.Module):
    def __init__(self, c, groups=8):
        super().__init__()
        self.norm = nn.GroupNorm(groups, c)
        self.qkv = nn.Conv2d(c, 3 * c, 1)
        self.proj = nn.Conv2d(c, c, 1)

    def forward(self, x):
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(n, 3, c, h * w).unbind(1)
        att = torch.softmax(torch.einsum("nci,ncj->nij", q, k) / math.sqrt(c), dim=2)
        out = torch.einsum("nij,ncj->nci", att, v).reshape(n, c, h, w)
        return x + self.proj(out)


class UNet(nn.Module):
    def __init__(self, ch=32, mult=(1, 2, 2), blocks=2, classes=10, in_ch=1):
        super().__init__()
        emb = 4 * ch
        self.ch = ch
        self.conv_in = nn.Conv2d(in_ch, ch, 3, padding=1)
        self.time_mlp = nn.Sequential(nn.Linear(ch, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.class_emb = nn.Embedding(classes + 1, emb)
        self.down = nn.ModuleList()
        skips = [ch]
        c = ch
        for lvl, m in enumerate(mult):
            level = nn.Module()
            level.res = nn.ModuleList()
            for _ in range(blocks):
                level.res.append(ResBlock(c, ch * m, emb))
                c = ch * m
                skips.append(c)
            if lvl < len(mult) - 1:
                level.down = nn.Conv2d(c, c, 3, stride=2, padding=1)
                skips.append(c)
            self.down.append(level)
        self.mid_res0 = ResBlock(c, c, emb)
        self.mid_attn = Attention(c)
        self.mid_res1 = ResBlock(c, c, emb)
        self.up = nn.ModuleList([None] * len(mult))
        for lvl in reversed(range(len(mult))):
            level = nn.Module()
            level.res = nn.ModuleList()
            for _ in range(blocks + 1):
                level.res.append(ResBlock(c + skips.pop(), ch * mult[lvl], emb))
                c = ch * mult[lvl]
            if lvl > 0:
                level.up = nn.Conv2d(c, c, 3, padding=1)
            self.up[lvl] = level
        self.out_norm = nn.GroupNorm(8, c)
        self.out_conv = nn.Conv2d(c, in_ch, 3, padding=1)

    def forward(self, x, t, y):
        emb = self.time_mlp(timestep_embedding(t, self.ch)) + self.class_emb(y)
        h = self.conv_in(x)
        hs = [h]
        for level in self.down:
            for rb in level.res:
                h = rb(h, emb)
                hs.append(h)
            if hasattr(level, "down"):
                h = level.down(h)
                hs.append(h)
        h = self.mid_res1(self.mid_attn(self.mid_res0(h, emb)), emb)
        for lvl in reversed(range(len(self.up))):
            level = self.up[lvl]
            for rb in level.res:
                h = rb(torch.cat([h, hs.pop()], dim=1), emb)
            if hasattr(level, "up"):
                h = level.up(F.interpolate(h, scale_factor=2, mode="nearest"))
        return self.out_conv(F.silu(self.out_norm(h)))


def count():
    print(sum(p.numel() for p in UNet().parameters()))


def bench(threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = UNet()
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)
    res = []

    def timeit(fn, reps):
        fn()
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return best

    x = torch.randn(128, 1, 32, 32)
    t = torch.randint(0, 1000, (128,))
    y = torch.randint(0, 10, (128,))
    with torch.no_grad():
        s = timeit(lambda: model(x, t, y), 3)
    res.append({"kernel": "unet-small/forward-b128", "impl": "pytorch", "threads": threads, "ns_per_op": s * 1e9})
    xb, tb, yb = x[:64], t[:64], y[:64]
    eps = torch.randn_like(xb)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(model(xb, tb, yb), eps)
        loss.backward()
        opt.step()

    s = timeit(step, 3)
    res.append({"kernel": "unet-small/train-b64", "impl": "pytorch", "threads": threads, "ns_per_op": s * 1e9})
    print(json.dumps(res))


def parity(d):
    torch.set_num_threads(1)
    model = UNet()
    w = np.load(f"{d}/weights.npz")
    state = {k: torch.from_numpy(w[k]) for k in w.files}
    model.load_state_dict(state, strict=True)
    inp = np.load(f"{d}/inputs.npz")
    x = torch.from_numpy(inp["x"]).requires_grad_(True)
    t = torch.from_numpy(inp["t"]).long()
    y = torch.from_numpy(inp["y"]).long()
    out = model(x, t, y)
    loss = F.mse_loss(out, torch.from_numpy(inp["eps"]))
    loss.backward()
    res = {"out": out.detach().numpy(), "loss": np.array([loss.item()], dtype=np.float64), "dx": x.grad.numpy()}
    for k, p in model.named_parameters():
        res["grad/" + k] = p.grad.numpy()
    np.savez(f"{d}/torch_out.npz", **res)


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "count"
    if cmd == "count":
        count()
    elif cmd == "bench":
        threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
        bench(threads)
    elif cmd == "parity":
        parity(sys.argv[2])
    else:
        sys.exit(__doc__)
