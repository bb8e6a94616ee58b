// bench.mjs: the node half of scripts/bench-browser.sh. It serves www/, this
// folder, onnxruntime-web's dist/ and the exported model on 127.0.0.1, opens
// bench.html in headless Chromium and prints what window.runBench measured.
//
//   node scripts/browser/bench.mjs [--batch 16] [--reps 5] [--rounds 3]
//        [--builds relaxed,simd128,none] [--slow-reps 1] [--seed 1] [--json]
//        [--model-dir .cache/browser/model]
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { serve } from "./server.mjs";
import { launch, root, cacheDir } from "./chromium.mjs";

const { values: opt } = parseArgs({
  options: {
    batch: { type: "string", default: "16" },
    reps: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    builds: { type: "string", default: "relaxed,simd128,none" },
    "slow-reps": { type: "string", default: "1" },
    seed: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
    "model-dir": { type: "string", default: path.join(cacheDir, "model") },
    timeout: { type: "string", default: "3000" },
  },
});
const int = (name, lo, hi) => {
  const v = Number(opt[name]);
  if (!Number.isInteger(v) || v < lo || v > hi) {
    console.error(`bench: --${name} ${opt[name]} must be an integer in [${lo}, ${hi}]`);
    process.exit(2);
  }
  return v;
};
const cfg = {
  batch: int("batch", 1, 64), reps: int("reps", 1, 100), rounds: int("rounds", 1, 50),
  slowReps: int("slow-reps", 1, 100), seed: int("seed", 0, 2 ** 31),
  builds: opt.builds.split(",").filter(Boolean),
};
for (const b of cfg.builds) {
  if (!["relaxed", "simd128", "none"].includes(b)) {
    console.error(`bench: unknown kernel build ${b} (relaxed, simd128, none)`);
    process.exit(2);
  }
}
const exported = JSON.parse(readFileSync(path.join(opt["model-dir"], "export.json"), "utf8"));
if (exported.batch !== cfg.batch) {
  console.error(`bench: ${opt["model-dir"]} holds a model for batch ${exported.batch}, not ${cfg.batch}`);
  process.exit(2);
}
cfg.model = `/model/${exported.onnx}`;
cfg.weights = `/model/${exported.weights}`;

const problems = [];
const srv = await serve({
  "/": path.join(root, "www"),
  "/bench/": path.join(root, "scripts/browser"),
  "/ort/": path.join(cacheDir, "node_modules/onnxruntime-web/dist"),
  "/model/": opt["model-dir"],
}, { onError: (status, url) => problems.push(`HTTP ${status} for ${url}`) });
const chrome = await launch();
let result;
try {
  const page = await chrome.context.newPage();
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    if (process.env.CDP_BENCH_VERBOSE) console.error(`[${m.type()}] ${m.text()}`);
  });
  page.setDefaultTimeout(Number(opt.timeout) * 1000);
  await page.goto(`${srv.url}/bench/bench.html`);
  result = await page.evaluate((c) => window.runBench(c), cfg);
  result.log = await page.textContent("#log");
} catch (err) {
  console.error(`bench: ${err.message}`);
  for (const p of problems) console.error(p);
  process.exitCode = 1;
} finally {
  await chrome.close();
  await srv.close();
}
if (!result) process.exit(1);
result.chromium = chrome.version;
result.onnxruntimeWeb = JSON.parse(readFileSync(path.join(cacheDir, "node_modules/onnxruntime-web/package.json"), "utf8")).version;
result.config = { batch: cfg.batch, reps: cfg.reps, rounds: cfg.rounds, slowReps: cfg.slowReps, seed: cfg.seed, builds: cfg.builds };
result.problems = problems;
const ort = result.impls["onnxruntime-web"];
for (const [name, r] of Object.entries(result.impls)) {
  if (name === "onnxruntime-web") continue;
  // Speed ratio cdp/ORT: > 1 means cdp is faster.
  r.ratioToOrt = r.imageStepsPerSec / ort.imageStepsPerSec;
  // Range over the rounds of the paired ratio (the two ran in the same round).
  const paired = r.roundMedians.map((ms, i) => ort.roundMedians[i] / ms);
  r.ratioToOrtRounds = [Math.min(...paired), Math.max(...paired)];
}

if (opt.json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const f = (x, d = 1) => x.toFixed(d);
  console.log(`${result.chromium}; ${result.userAgent}`);
  console.log(`onnxruntime-web ${result.onnxruntimeWeb} (wasm, numThreads 1, SIMD); unet-small forward, batch ${cfg.batch}; ` +
    `${cfg.rounds} rounds x ${cfg.reps} timed forwards (none: ${cfg.slowReps}), each after 1 warm-up`);
  console.log("");
  const rows = [["impl", "forwards", "ms/forward (median)", "image-steps/s", "range over rounds", "best", "GFLOP/s", "cdp/ORT (range over rounds)"]];
  for (const [name, r] of Object.entries(result.impls)) {
    rows.push([
      name === "onnxruntime-web" ? name : `cdp (${r.impl})`, String(r.forwards), f(r.msMedian, 0), f(r.imageStepsPerSec),
      `${f(r.imageStepsPerSecRounds[0])}-${f(r.imageStepsPerSecRounds[1])}`, f(r.imageStepsPerSecBest),
      result.flopsPerImage ? f(r.imageStepsPerSec * result.flopsPerImage / 1e9) : "",
      r.ratioToOrt ? `${f(r.ratioToOrt, 2)} (${f(r.ratioToOrtRounds[0], 2)}-${f(r.ratioToOrtRounds[1], 2)})` : "",
    ]);
  }
  const w = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  for (const r of rows) console.log(r.map((c, j) => c.padEnd(w[j])).join("  ").trimEnd());
  console.log("");
  for (const [k, p] of Object.entries(result.parity)) {
    console.log(`parity ${k}: relative L2 error ${p.relErr.toExponential(2)}, max |diff| ${p.maxAbs.toExponential(2)}` +
      (p.dims ? `, ORT output dims [${p.dims}], finite ${p.finite}` : ""));
  }
  for (const p of problems) console.log(p);
}
// Fail when the two runtimes disagree or the page reported errors.
const bad = Object.entries(result.parity).filter(([, p]) => !(p.relErr < 1e-3) || p.finite === false);
if (bad.length || problems.length) {
  console.error(`bench: ${bad.length} parity failures, ${problems.length} page problems`);
  process.exit(1);
}
