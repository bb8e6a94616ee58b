// cdp-worker.js: one cdp module (www/cdp.wasm) with one kernel build, forced
// by the URL parameter kernels=relaxed|simd128|none, for bench.html. Like
// www/worker.js, but it answers {id, options} with the result of
// cdp.benchUNet(options): {id, result} or {id, error}.
importScripts("/wasm_exec.js", "/kernels.js");

const ready = (async () => {
  const go = new Go();
  const started = new Promise((resolve) => { self.cdpReady = resolve; });
  const force = new URL(self.location.href).searchParams.get("kernels") || "auto";
  const kernels = await CDPKernels.load({ force, base: new URL("/", self.location.href).href });
  go.importObject.cdpkernels = kernels.imports;
  const { instance } = await WebAssembly.instantiateStreaming(fetch("/cdp.wasm"), go.importObject);
  await kernels.attach(instance.exports.mem);
  go.run(instance);
  await started;
  return { cdp: self.cdp, build: kernels.build };
})();

self.onmessage = async (ev) => {
  const { id, options } = ev.data;
  try {
    const { cdp, build } = await ready;
    if (options === "info") {
      self.postMessage({ id, result: { version: cdp.version, impl: cdp.impl(), build } });
      return;
    }
    const result = await cdp.benchUNet(options);
    result.build = build;
    self.postMessage({ id, result });
  } catch (err) {
    self.postMessage({ id, error: String(err && err.message || err) });
  }
};
