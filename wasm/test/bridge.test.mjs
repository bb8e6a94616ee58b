// Tests of the browser module's JS API (globalThis.cdp) under node's test
// runner. Run by ./build.sh test after ./build.sh wasm:
//   node --test wasm/test/
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadCDP } from "../node.mjs";

const { cdp, kernels } = await loadCDP();
const wantImpl = { relaxed: "wasm-relaxed", simd128: "wasm-simd128", none: "generic" }[kernels.build];

test("the module describes itself", () => {
  assert.equal(typeof cdp.version, "string");
  assert.equal(cdp.impl(), wantImpl, `kernel build ${kernels.build}`);
  const exps = JSON.parse(cdp.experiments());
  const names = exps.map((e) => e.name);
  for (const n of ["spread", "samples", "direction", "mixing", "kclass", "guided2d"]) {
    assert.ok(names.includes(n), `experiment ${n} is listed`);
  }
  for (const e of exps) {
    for (const p of e.params) {
      assert.ok(p.min <= p.default && p.default <= p.max, `${e.name}.${p.name} default in range`);
    }
  }
});

const small = { d: 10, reps: 20, points: 3, logistic: 0 };

test("an experiment runs, reports progress and is reproducible", async () => {
  let calls = 0;
  const a = JSON.parse(await cdp.runExperiment("spread", small, 7, () => { calls++; }));
  const b = JSON.parse(await cdp.runExperiment("spread", { ...small, d: "10" }, 7));
  assert.equal(a.experiment, "spread");
  assert.equal(a.seed, 7);
  assert.ok(calls > 0, "progress was reported");
  assert.deepEqual(a.panels, b.panels, "same seed, same numbers");
  const c = JSON.parse(await cdp.runExperiment("spread", small, 8));
  assert.notDeepEqual(a.panels, c.panels, "another seed, other numbers");
  for (const p of a.panels) for (const s of p.series) for (const y of s.y) assert.ok(Number.isFinite(y));
});

test("hostile arguments are refused with a message that names the problem", async () => {
  const cases = [
    [[42], /name must be a string/],
    [["nosuch"], /no experiment "nosuch"/],
    [["spread", { d: "ten" }], /parameter d: "ten" is not a number/],
    [["spread", { d: 0 }], /parameter d = 0 must be an integer in \[1, 5000\]/],
    [["spread", { nosuch: 1 }], /no parameter "nosuch"/],
    [["spread", "d=3"], /params must be an object/],
    [["spread", {}, -1], /seed -1 must be a non-negative integer/],
    [["spread", {}, 1.5], /seed 1.5 must be a non-negative integer/],
    [["spread", { d: NaN }], /parameter d = NaN/],
    [["spread", { d: {} }], /parameter d: want a number/],
    [["spread", { d: 3n }], /parameter d: want a number/],
    [["spread", {}, 2n], /seed: want a number/],
  ];
  for (const [args, re] of cases) {
    await assert.rejects(cdp.runExperiment(...args), re, String(args.map(String)));
  }
  // A getter or Proxy trap that throws rejects the call; the module lives on.
  const getter = Object.defineProperty({}, "d", { enumerable: true, get() { throw new Error("boom"); } });
  await assert.rejects(cdp.runExperiment("spread", getter), /boom/);
  const trap = new Proxy({}, { ownKeys() { throw new Error("trap"); } });
  await assert.rejects(cdp.runExperiment("spread", trap), /trap/);
  const throwing = () => { throw new Error("progress callback failed"); };
  await assert.rejects(cdp.runExperiment("spread", { points: 2, reps: 2, logistic: 0 }, 1, throwing), /progress callback failed/);
  assert.equal(typeof cdp.impl(), "string", "the module still answers");
  JSON.parse(await cdp.runExperiment("spread", { points: 2, reps: 2, logistic: 0 }, 1));
});
