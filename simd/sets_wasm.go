//go:build gc && js && wasm && !purego

package simd

// archSets lists the WebAssembly SIMD kernel sets for js/wasm, best first.
// At most one of them is supported: the one whose build www/kernels.js
// loaded (see kernels_wasm.go).
var archSets = []*kernelSet{&wasmRelaxed, &wasmSIMD128}
