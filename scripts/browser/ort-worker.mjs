// ort-worker.mjs: onnxruntime-web (the benchmark peer) in a module worker,
// wasm backend, one thread, SIMD. Messages:
//   {id, init: {model: URL}}           -> {id, result: {inputs, outputs}}
//   {id, run: {batch, reps, warmup, x?, t?, y?}}
//        times session.run on x (batch,1,32,32) and t, y (batch) (random when
//        not given) -> {id, result: {ms: [...], out: Float32Array, dims}}
import * as ort from "/ort/ort.wasm.min.mjs";

ort.env.wasm.numThreads = 1;
ort.env.wasm.simd = true;
ort.env.wasm.proxy = false;
ort.env.wasm.wasmPaths = "/ort/";
let session = null;

function randn(n, seed) {
  // Box-Muller over a small LCG: the input values do not matter for timing.
  const out = new Float32Array(n);
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 4294967297;
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

self.onmessage = async (ev) => {
  const { id, init, run } = ev.data;
  try {
    if (init) {
      session = await ort.InferenceSession.create(init.model, {
        executionProviders: ["wasm"],
        graphOptimizationLevel: "all",
      });
      self.postMessage({ id, result: { inputs: session.inputNames, outputs: session.outputNames, version: ort.env.versions } });
      return;
    }
    const { batch, reps, warmup } = run;
    const hw = 32 * 32;
    const x = run.x || randn(batch * hw, 1);
    const t = BigInt64Array.from(run.t || Array.from({ length: batch }, (_, i) => 1 + ((i * 379) % 1000)), (v) => BigInt(v));
    const y = BigInt64Array.from(run.y || Array.from({ length: batch }, (_, i) => i % 10), (v) => BigInt(v));
    const feeds = {
      x: new ort.Tensor("float32", x, [batch, 1, 32, 32]),
      t: new ort.Tensor("int64", t, [batch]),
      y: new ort.Tensor("int64", y, [batch]),
    };
    let out = null;
    for (let i = 0; i < warmup; i++) out = await session.run(feeds);
    const ms = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      out = await session.run(feeds);
      ms.push(performance.now() - t0);
    }
    const eps = out[session.outputNames[0]];
    self.postMessage({ id, result: { ms, out: eps.data, dims: eps.dims } });
  } catch (err) {
    self.postMessage({ id, error: String(err && err.message || err) });
  }
};
