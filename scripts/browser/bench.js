// bench.js: the page half of scripts/bench-browser.sh. window.runBench(cfg)
// times cdp's unet-small forward pass (cdp.benchUNet in one Web Worker per
// kernel build) and onnxruntime-web's (ort-worker.mjs, wasm backend, one
// thread) in this browser, interleaved round by round, and checks that both
// compute the same eps on the same weights and inputs.
"use strict";

const log = (msg) => { document.getElementById("log").textContent += msg + "\n"; };

// rpc wraps a worker: call(message) -> Promise of its {result} or {error}.
function rpc(worker) {
  let next = 0;
  const pending = new Map();
  worker.onmessage = (ev) => {
    const p = pending.get(ev.data.id);
    if (!p) return;
    pending.delete(ev.data.id);
    ev.data.error !== undefined ? p.reject(new Error(ev.data.error)) : p.resolve(ev.data.result);
  };
  worker.onerror = (ev) => {
    for (const p of pending.values()) p.reject(new Error(`worker error: ${ev.message}`));
    pending.clear();
  };
  return (msg) => new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, ...msg });
  });
}

// compare returns the relative L2 error of a against b and max |a - b|.
function compare(a, b) {
  if (a.length !== b.length) return { relErr: Infinity, maxAbs: Infinity };
  let num = 0, den = 0, maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
    maxAbs = Math.max(maxAbs, Math.abs(d));
  }
  return { relErr: Math.sqrt(num / Math.max(den, 1e-30)), maxAbs };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// runBench(cfg): cfg = {batch, reps, rounds, builds: ["relaxed", ...],
// slowReps (reps for the "none" build), weights: URL of the .npz, model: URL
// of the .onnx, seed}. Resolves to {userAgent, impls: {name: {...}}, parity}.
window.runBench = async (cfg) => {
  const { batch, reps, rounds, builds, seed } = cfg;
  const weights = new Uint8Array(await (await fetch(cfg.weights)).arrayBuffer());
  const impls = [];
  for (const build of builds) {
    const call = rpc(new Worker(`cdp-worker.js?kernels=${build}`));
    const info = await call({ options: "info" });
    log(`cdp ${info.version}: build ${build}, impl ${info.impl}`);
    impls.push({ name: `cdp-${build}`, kind: "cdp", build, call, info, perRound: [], ms: [] });
  }
  const ortCall = rpc(new Worker("ort-worker.mjs", { type: "module" }));
  const ortInfo = await ortCall({ init: { model: cfg.model } });
  log(`onnxruntime-web ${JSON.stringify(ortInfo.version)}: inputs ${ortInfo.inputs}, outputs ${ortInfo.outputs}`);
  impls.push({ name: "onnxruntime-web", kind: "ort", call: ortCall, info: ortInfo, perRound: [], ms: [] });

  // Parity: each cdp build on the same weights returns its inputs and eps;
  // ORT runs on the same inputs.
  const parity = {};
  let ref = null;
  for (const im of impls.filter((i) => i.kind === "cdp")) {
    const r = await im.call({ options: { batch, reps: 1, warmup: 0, seed, weights, tensors: true } });
    if (!ref) ref = { name: im.name, r };
    else parity[`${im.name} vs ${ref.name}`] = compare(r.out, ref.r.out);
  }
  if (ref) {
    const o = await ortCall({ run: { batch, reps: 1, warmup: 0, x: ref.r.x, t: ref.r.t, y: ref.r.y } });
    const finite = o.out.every(Number.isFinite);
    parity[`onnxruntime-web vs ${ref.name}`] = { ...compare(o.out, ref.r.out), dims: o.dims, finite };
    log(`parity: ${JSON.stringify(parity)}`);
  }

  for (let round = 0; round < rounds; round++) {
    // Rotate the order so that no implementation always runs first.
    const order = impls.map((_, i) => impls[(i + round) % impls.length]);
    for (const im of order) {
      let ms;
      if (im.kind === "cdp") {
        const n = im.build === "none" ? cfg.slowReps : reps;
        const r = await im.call({ options: { batch, reps: n, warmup: 1, seed } });
        ms = r.ms;
        im.impl = r.impl;
        im.flopsPerImage = r.flopsPerImage;
      } else {
        ms = (await im.call({ run: { batch, reps, warmup: 1 } })).ms;
      }
      im.ms.push(...ms);
      im.perRound.push(median(ms));
      log(`round ${round + 1} ${im.name}: ${ms.map((m) => m.toFixed(0)).join(" ")} ms`);
    }
  }
  const out = {};
  for (const im of impls) {
    const med = median(im.ms);
    out[im.name] = {
      impl: im.impl || im.name,
      forwards: im.ms.length,
      msMedian: med,
      msBest: Math.min(...im.ms),
      roundMedians: im.perRound,
      imageStepsPerSec: (batch * 1000) / med,
      imageStepsPerSecBest: (batch * 1000) / Math.min(...im.ms),
      imageStepsPerSecRounds: [(batch * 1000) / Math.max(...im.perRound), (batch * 1000) / Math.min(...im.perRound)],
    };
  }
  return { userAgent: navigator.userAgent, batch, parity, impls: out, flopsPerImage: impls[0].flopsPerImage };
};
