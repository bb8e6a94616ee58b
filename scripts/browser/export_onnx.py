"""Export unet-small to ONNX for the browser benchmark (scripts/bench-browser.sh).

The model is core/unet/testdata/unet.py (the PyTorch peer of cdp's U-Net,
same parameter names), imported as it is. Writes into OUTDIR:
  unet-small-bBATCH.onnx   inputs x (BATCH,1,32,32) float32, t and y (BATCH,) int64;
                           output eps (BATCH,1,32,32); opset 17, fixed batch
  unet-small.npz           the same weights by parameter name (numpy.savez),
                           which cdp.benchUNet({weights}) loads
  export.json              what was written, torch version, parameter count

usage: /usr/bin/python3 export_onnx.py OUTDIR [BATCH] [SEED]
Needs torch only (torch.onnx.export writes the file without the onnx package).
"""
import json
import os
import sys
import warnings

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "core", "unet", "testdata"))
import unet  # noqa: E402


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(seed)
    model = unet.UNet().eval()
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    np.savez(os.path.join(out, "unet-small.npz"), **state)
    x = torch.randn(batch, 1, 32, 32)
    t = torch.randint(1, 1001, (batch,))
    y = torch.randint(0, 10, (batch,))
    path = os.path.join(out, f"unet-small-b{batch}.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x, t, y), path, input_names=["x", "t", "y"], output_names=["eps"],
                          opset_version=17, do_constant_folding=True)
    with torch.no_grad():
        eps = model(x, t, y)
    assert eps.shape == x.shape and torch.isfinite(eps).all()
    info = {"onnx": os.path.basename(path), "weights": "unet-small.npz", "batch": batch, "seed": seed,
            "torch": torch.__version__, "parameters": sum(p.numel() for p in model.parameters())}
    with open(os.path.join(out, "export.json"), "w") as f:
        json.dump(info, f)
    print(json.dumps(info))


if __name__ == "__main__":
    main()
