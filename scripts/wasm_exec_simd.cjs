// wasm_exec_simd.cjs is the node half of scripts/go_js_wasm_exec_simd: Go's
// wasm_exec_node.js plus the SIMD kernels of package simd (www/kernels.js).
"use strict";

const fs = require("fs");
const path = require("path");

if (process.argv.length < 3) {
  console.error("usage: go_js_wasm_exec_simd [wasm binary] [arguments]");
  process.exit(1);
}

globalThis.require = require;
globalThis.fs = fs;
globalThis.path = path;
globalThis.TextEncoder = require("util").TextEncoder;
globalThis.TextDecoder = require("util").TextDecoder;
globalThis.performance ??= require("perf_hooks").performance;
globalThis.crypto ??= require("crypto");

const root = path.resolve(__dirname, "..");
require(path.join(process.env.GOROOT, "lib/wasm/wasm_exec.js"));
require(path.join(root, "www/kernels.js"));

const dir = process.env.CDP_WASM_KERNELS_DIR || path.join(root, "www");
const force = process.env.CDP_WASM_KERNELS || "auto";

(async () => {
  const kernels = await globalThis.CDPKernels.load({
    force,
    fetchBytes: async (file) => fs.readFileSync(path.join(dir, file)),
    log: (msg) => { if (process.env.CDP_WASM_KERNELS_VERBOSE) console.error(`cdp kernels: ${msg}`); },
  });
  const go = new Go();
  go.argv = process.argv.slice(2);
  go.env = Object.assign({ TMPDIR: require("os").tmpdir(), CDP_WASM_KERNELS_LOADED: kernels.build }, process.env);
  go.exit = process.exit;
  go.importObject.cdpkernels = kernels.imports;
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(process.argv[2]), go.importObject);
  await kernels.attach(instance.exports.mem);
  process.on("exit", (code) => { // node exits when no event handler is pending
    if (code === 0 && !go.exited) {
      // deadlock: make Go print the error and stack traces
      go._pendingEvent = { id: 0 };
      go._resume();
    }
  });
  await go.run(instance);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
