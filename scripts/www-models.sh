#!/bin/sh
# Regenerates the browser page's small models in www/models/ (see www/models/README.md):
#   unet-tiny-mnist.ckpt  the class-conditional eps-model (cdp train, unet-tiny, 30,000 steps; its
#                         model-ema.ckpt, the EMA weights alone)
#   mnist-net-mnist.ckpt  the feature network and classifier (cdp advtrain --method standard, 15 epochs)
# both on the embedded MNIST subset. About an hour on 2 cores with the avx2 kernels. Usage, from anywhere:
#   sh scripts/www-models.sh
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/cdp" ./native/cdp
"$tmp/cdp" train --model unet-tiny --steps 30000 --batch 64 --lr 2e-3 --ema 0.995 --schedule cosine \
	--warmup 200 --subset 5000 --seed 1 --out "$tmp/diffusion"
"$tmp/cdp" advtrain --method standard --model mnist-net --subset 5000 --epochs 15 --batch 64 \
	--val-size 500 --optimizer adam --lr 3e-3 --val-steps 5 --seed 1 --out "$tmp/features"
mkdir -p www/models
cp "$tmp/diffusion/model-ema.ckpt" www/models/unet-tiny-mnist.ckpt
cp "$tmp/features/weights-last.ckpt" www/models/mnist-net-mnist.ckpt
ls -l www/models/*.ckpt
