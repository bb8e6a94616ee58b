// worker.js runs the cdp WebAssembly module off the page's thread and
// answers {id, call, args} messages with {id, result} or {id, error};
// progress arrives as {id, progress: [done, total]}.
importScripts("wasm_exec.js");

const ready = (async () => {
  const go = new Go();
  const started = new Promise((resolve) => { self.cdpReady = resolve; });
  const resp = await fetch("cdp.wasm");
  const { instance } = await WebAssembly.instantiateStreaming
    ? await WebAssembly.instantiateStreaming(resp, go.importObject)
    : await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
  go.run(instance);
  await started;
  return self.cdp;
})();

self.onmessage = async (ev) => {
  const { id, call, args } = ev.data;
  try {
    const cdp = await ready;
    let result;
    if (call === "experiments") result = JSON.parse(cdp.experiments());
    else if (call === "info") result = { version: cdp.version, impl: cdp.impl() };
    else if (call === "run") {
      const [name, params, seed] = args;
      result = JSON.parse(await cdp.runExperiment(name, params, seed,
        (done, total) => self.postMessage({ id, progress: [done, total] })));
    } else throw new Error(`unknown call ${call}`);
    self.postMessage({ id, result });
  } catch (err) {
    self.postMessage({ id, error: String(err && err.message || err) });
  }
};
