// node.mjs loads the browser module (www/cdp.wasm with the SIMD kernels that
// www/kernels.js picks) into node, for the tests in wasm/test/. The kernel
// build follows CDP_WASM_KERNELS=relaxed|simd128|none (default auto), as for
// the Go tests.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// loadCDP instantiates the module once and resolves to { cdp, kernels }:
// globalThis.cdp and the loader's description of the kernel build.
export async function loadCDP() {
  await import(path.join(root, "www/wasm_exec.js"));
  await import(path.join(root, "www/kernels.js"));
  const kernels = await globalThis.CDPKernels.load({
    force: process.env.CDP_WASM_KERNELS || "auto",
    fetchBytes: async (file) => readFileSync(path.join(root, "www", file)),
  });
  const go = new globalThis.Go();
  go.importObject.cdpkernels = kernels.imports;
  const ready = new Promise((resolve) => { globalThis.cdpReady = resolve; });
  const { instance } = await WebAssembly.instantiate(readFileSync(path.join(root, "www/cdp.wasm")), go.importObject);
  await kernels.attach(instance.exports.mem);
  go.run(instance);
  await ready;
  return { cdp: globalThis.cdp, kernels };
}
