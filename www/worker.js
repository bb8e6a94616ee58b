// worker.js runs the cdp WebAssembly module off the page's thread and
// answers {id, call, args} messages with {id, result} or {id, error};
// progress arrives as {id, progress: [done, total, ...]}.
// The sample call reads the page's small models from models/ (see
// models/README.md) once and hands them to cdp.sample with the page's options
// (which may carry the user's own model and features bytes instead).
// The float32 kernels come from kernels.js: the best SIMD build this browser
// validates (relaxed, SIMD128), or none, in which case cdp runs its generic
// kernels and info reports impl "generic". A URL parameter kernels=relaxed|
// simd128|none on the worker's URL forces a build (benchmarks, tests).
importScripts("wasm_exec.js", "kernels.js");

let kernelBuild = "none";
const ready = (async () => {
  const go = new Go();
  const started = new Promise((resolve) => { self.cdpReady = resolve; });
  const force = new URL(self.location.href).searchParams.get("kernels") || "auto";
  const kernels = await CDPKernels.load({ force, base: self.location.href, log: (m) => console.info("cdp kernels:", m) });
  kernelBuild = kernels.build;
  go.importObject.cdpkernels = kernels.imports;
  const resp = await fetch("cdp.wasm");
  const { instance } = WebAssembly.instantiateStreaming
    ? await WebAssembly.instantiateStreaming(resp, go.importObject)
    : await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
  await kernels.attach(instance.exports.mem);
  go.run(instance);
  await started;
  return self.cdp;
})();

let models = null;
function loadModels() {
  models ??= Promise.all(["models/unet-tiny-mnist.ckpt", "models/mnist-net-mnist.ckpt"].map(async (f) => {
    const r = await fetch(f);
    if (!r.ok) throw new Error(`${f}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  }));
  models.catch(() => { models = null; }); // a failed fetch is tried again next time
  return models;
}

self.onmessage = async (ev) => {
  const { id, call, args } = ev.data;
  try {
    const cdp = await ready;
    let result;
    if (call === "experiments") result = JSON.parse(cdp.experiments());
    else if (call === "info") result = { version: cdp.version, impl: cdp.impl(), kernels: kernelBuild };
    else if (call === "run") {
      const [name, params, seed] = args;
      result = JSON.parse(await cdp.runExperiment(name, params, seed,
        (done, total) => self.postMessage({ id, progress: [done, total] })));
    } else if (call === "sample") {
      // The page's models, unless the page hands its own (a user's files).
      const opts = args[0];
      const [model, features] = opts.model && opts.features ? [opts.model, opts.features] : await loadModels();
      result = await cdp.sample({ model, features, ...opts },
        (done, total, t) => self.postMessage({ id, progress: [done, total, t] }));
    } else throw new Error(`unknown call ${call}`);
    self.postMessage({ id, result });
  } catch (err) {
    self.postMessage({ id, error: String(err && err.message || err) });
  }
};
