#!/usr/bin/env bash
# wasm-kernels.sh assembles the WebAssembly SIMD kernels of package simd
# (simd/wat/kernels.wat) into the two builds that the page ships:
#   www/kernels-simd128.wasm  the source as it stands (SIMD128)
#   www/kernels-relaxed.wasm  every "A B f32x4.mul ;;fma C f32x4.add ;;fma"
#                             multiply-add turned into f32x4.relaxed_madd, level 2
# It installs Debian's wabt (wat2wasm) when it is missing. Usage:
#   scripts/wasm-kernels.sh [outdir]     (default: www)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/www}"
src="$root/simd/wat/kernels.wat"
if ! command -v wat2wasm >/dev/null; then
  echo "wasm-kernels: installing wabt" >&2
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq && $sudo apt-get install -y -qq wabt >/dev/null
fi
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Every fused pair must be complete, or the relaxed build would compute
# something else.
muls=$(grep -c 'f32x4\.mul ;;fma$' "$src" || true)
adds=$(grep -c 'f32x4\.add ;;fma$' "$src" || true)
if [ "$muls" != "$adds" ] || [ "$muls" = 0 ]; then
  echo "wasm-kernels: $src has $muls f32x4.mul ;;fma and $adds f32x4.add ;;fma lines" >&2
  exit 1
fi
sed -e 's/ *f32x4\.mul ;;fma$//' \
    -e 's/f32x4\.add ;;fma$/f32x4.relaxed_madd/' \
    -e 's/i32\.const 1 ;;level$/i32.const 2 ;;level/' "$src" >"$tmp/relaxed.wat"
if [ "$(grep -c 'i32.const 2 ;;level$' "$tmp/relaxed.wat")" != 1 ]; then
  echo "wasm-kernels: $src must hold exactly one 'i32.const 1 ;;level' line" >&2
  exit 1
fi
wat2wasm "$src" -o "$tmp/kernels-simd128.wasm"
wat2wasm --enable-relaxed-simd "$tmp/relaxed.wat" -o "$tmp/kernels-relaxed.wasm"
mv "$tmp/kernels-simd128.wasm" "$tmp/kernels-relaxed.wasm" "$out/"
echo "wasm-kernels: $out/kernels-simd128.wasm ($(wc -c <"$out/kernels-simd128.wasm") bytes), $out/kernels-relaxed.wasm ($(wc -c <"$out/kernels-relaxed.wasm") bytes)"
