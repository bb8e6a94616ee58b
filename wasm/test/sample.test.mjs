// Tests of cdp.sample, the browser's small-model sampling, on the page's own
// models (www/models). Run by ./build.sh test after ./build.sh wasm.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { loadCDP } from "../node.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const model = new Uint8Array(readFileSync(path.join(root, "www/models/unet-tiny-mnist.ckpt")));
const features = new Uint8Array(readFileSync(path.join(root, "www/models/mnist-net-mnist.ckpt")));
const { cdp } = await loadCDP();

const small = { model, features, n: 10, steps: 8, seed: 3 };

test("plain sampling gives labelled pixels, reports progress and is reproducible", async () => {
  const seen = [];
  const a = await cdp.sample(small, (done, total, t) => seen.push([done, total, t]));
  assert.equal(a.n, 10);
  assert.equal(a.size, 28, "cropped to the classifier's 28x28");
  assert.equal(a.channels, 1);
  assert.ok(a.images instanceof Uint8Array);
  assert.equal(a.images.length, 10 * 28 * 28);
  assert.deepEqual(Array.from(a.labels), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(a.guidance, "none");
  assert.deepEqual(seen.map((s) => s[0]), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(seen.every((s) => s[1] === 8));
  assert.ok(seen[0][2] > seen[7][2], "timesteps decrease");
  assert.ok(a.stats.meanCosine > -1 && a.stats.meanCosine < 1);
  assert.ok(a.stats.agreement >= 0 && a.stats.agreement <= 1);
  const lit = a.images.filter((v) => v > 128).length;
  assert.ok(lit > 10 * 784 * 0.03 && lit < 10 * 784 * 0.5, `digits, not noise or blank: ${lit} bright pixels`);
  const b = await cdp.sample({ ...small });
  assert.deepEqual(b.images, a.images, "same seed, same images");
  const c = await cdp.sample({ ...small, seed: 4 });
  assert.notDeepEqual(c.images, a.images, "another seed, other images");
  const d = await cdp.sample({ model, n: 3, steps: 2, classes: [7] });
  assert.deepEqual(Array.from(d.labels), [7, 7, 7]);
  assert.equal(d.stats, undefined, "no features, no stats");
  assert.equal(d.size, 28, "a 32x32 model is cropped to 28x28 without features too");
});

test("contrastive guidance changes the samples and the classifier measures them", async () => {
  const plain = await cdp.sample(small);
  const opts = { ...small, guide: "contrastive", lambda: 1e5, window: [1, 1000] };
  const g = await cdp.sample(opts);
  assert.match(g.guidance, /^contrastive hnm lambda=100000 window 1:1000 .*mnist-net/);
  assert.notDeepEqual(g.images, plain.images);
  assert.ok(Number.isFinite(g.stats.meanCosine));
  const again = await cdp.sample(opts);
  assert.deepEqual(again.images, g.images, "guided sampling is reproducible too");
  const inf = await cdp.sample({ ...opts, loss: "infonce", lambda: 10, input: "x0hat", negatives: "other-class" });
  assert.match(inf.guidance, /^contrastive infonce lambda=10 .* input x0hat negatives other-class/);
  const cls = await cdp.sample({ ...small, guide: "classifier", scale: 2, window: [1, 1000] });
  assert.match(cls.guidance, /^classifier s=2/);
  const cfg = await cdp.sample({ ...small, guide: "cfg", cfgW: 2 });
  assert.equal(cfg.guidance, "cfg w=2");
});

test("frames keep the prediction of x0 during sampling", async () => {
  const ts0 = [];
  const r = await cdp.sample({ ...small, steps: 11, frames: 3 }, (done, total, t) => ts0.push(t));
  // steps 0, 3, 6, 9 and the last (10)
  assert.equal(r.frames.length, 5);
  for (const f of r.frames) assert.equal(f.images.length, 10 * 28 * 28);
  const ts = r.frames.map((f) => f.t);
  assert.deepEqual(ts, [0, 3, 6, 9, 10].map((i) => ts0[i]), "each frame is the x0 predicted at its step");
  // DDIM's last step lands on its prediction of x0 (alphaBar = 1 there).
  assert.deepEqual(r.frames[4].images, r.images, "the last frame is the final samples");
  assert.notDeepEqual(r.frames[0].images, r.images, "the first frame is not");
  const two = await cdp.sample({ ...small, steps: 11, frames: 3, batch: 4 });
  assert.deepEqual(two.frames.map((f) => f.t), ts);
  assert.deepEqual(two.images, r.images, "unguided images do not depend on the batch");
  assert.deepEqual(two.frames[2].images, r.frames[2].images, "every batch fills its part of a frame");
});

test("a 3-channel model gives colour pixels and needs a 3-channel classifier", async () => {
  // Random-weight fixtures (testdata/gen.go): no colour model ships with the page.
  const rgb = new Uint8Array(readFileSync(path.join(root, "wasm/test/testdata/rgb-unet.ckpt")));
  const rgbNet = new Uint8Array(readFileSync(path.join(root, "wasm/test/testdata/rgb-net.ckpt")));
  const r = await cdp.sample({ model: rgb, n: 3, steps: 2 });
  assert.equal(r.channels, 3);
  assert.equal(r.size, 28);
  assert.equal(r.images.length, 3 * 28 * 28 * 3);
  const g = await cdp.sample({ model: rgb, features: rgbNet, n: 3, steps: 2, guide: "contrastive", window: [1, 1000] });
  assert.equal(g.images.length, 3 * 28 * 28 * 3);
  assert.ok(Number.isFinite(g.stats.meanCosine));
  await assert.rejects(cdp.sample({ model: rgb, features, n: 3, steps: 2 }),
    /sample: features: generate: mnist-net takes 1-channel images with 10 classes; the eps-model makes 3-channel images/);
});

test("bad options are refused with a message that names the problem", async () => {
  const junk = new Uint8Array(100).fill(7);
  const cases = [
    [[], /options with a model checkpoint are required/],
    [[42], /options must be an object, got number/],
    [[{ n: 3 }], /options.model .* is required/],
    [[{ model: [1, 2] }], /model must be a Uint8Array holding a cdp train checkpoint, got \[object Array\]/],
    [[{ model: junk }], /sample: model: ckpt/],
    [[{ model: features }], /sample: model: .*architecture/],
    [[{ ...small, features: junk }], /sample: features: ckpt/],
    [[{ ...small, n: 0 }], /n = 0 must be an integer in \[1, 200\]/],
    [[{ ...small, n: 1e9 }], /n = 1e\+09 must be an integer/],
    [[{ ...small, n: "10" }], /n must be an integer .*got string/],
    [[{ ...small, steps: 0 }], /steps = 0 must be an integer/],
    [[{ ...small, steps: 1001 }], /sample: steps 1001 must lie in 1..1000/],
    [[{ ...small, sampler: "euler" }], /sample: sampler unknown sampler "euler" \(want ddpm or ddim\)/],
    [[{ ...small, eta: -1 }], /sample: eta -1 must be finite and not negative/],
    [[{ ...small, eta: NaN }], /sample: eta NaN/],
    [[{ ...small, spacing: "log" }], /sample: spacing unknown spacing "log"/],
    [[{ ...small, clip: 1 }], /clip must be true or false/],
    [[{ ...small, classes: [10] }], /sample: classes 10 is not a class in 0..9/],
    [[{ ...small, classes: "3" }], /classes must be an array of integers/],
    [[{ ...small, classes: [1.5] }], /classes\[0\] = 1.5 must be an integer/],
    [[{ ...small, guide: "magic" }], /sample: guide "magic": want none\|contrastive\|classifier\|cfg/],
    [[{ model, guide: "contrastive" }], /guide "contrastive" needs options.features/],
    [[{ ...small, guide: "contrastive", lambda: -1 }], /sample: lambda -1 must be finite and not negative/],
    [[{ ...small, guide: "contrastive", lambda: "big" }], /lambda must be a number, got string/],
    [[{ ...small, guide: "contrastive", tauPlus: 1 }], /sample: tauPlus 1 must lie in \[0, 1\)/],
    [[{ ...small, guide: "contrastive", window: [5] }], /window must be \[lo, hi\], got 1 numbers/],
    [[{ ...small, guide: "contrastive", window: [0, 10] }], /sample: window 0:10: want LO:HI with 1 <= LO <= HI <= 1000/],
    [[{ ...small, guide: "contrastive", window: [1, 2, 3] }], /window has 3 entries, more than 2/],
    [[{ ...small, guide: "contrastive", head: "deep" }], /sample: head "deep"/],
    [[{ ...small, guide: "contrastive", loss: "x".repeat(100) }], /loss of 100 bytes is no choice/],
    [[{ ...small, guide: "cfg", cfgW: Infinity }], /sample: cfgW \+Inf must be finite/],
    [[{ ...small, frames: 1, steps: 200 }], /frames = 1 keeps 200 frames of 200 steps, more than 100/],
    [[{ ...small, nosuch: 1 }], /no option "nosuch"/],
    [[{ ...small, seed: -1 }], /seed = -1 must be an integer/],
    [[{ ...small, n: 3n }], /n must be an integer .*got \[object BigInt\]/],
    [[{ ...small, classes: new Array(1e6) }], /classes has 1000000 entries, more than 1000/],
    [[{ ...small, classes: { length: 2 ** 32 - 1 } }], /classes must be an array of integers, got \[object Object\]/],
    [[{ ...small, guide: "contrastive", headLR: 0, head: "online" }], /sample: headLR 0 must be positive and finite/],
    [[{ ...small, guide: "contrastive", input: "x0" }], /sample: input "x0": want xt\|x0hat/],
    [[{ ...small, guide: "contrastive", negatives: "some" }], /sample: negatives "some": want all\|other-class/],
    [[{ ...small, guide: "contrastive", beta: NaN }], /sample: beta NaN must be finite/],
    [[{ ...small, guide: "contrastive", tau: -1 }], /sample: tau -1 must be positive and finite/],
    [[{ ...small, guide: "classifier", scale: 0 }], /sample: scale 0 must be positive and finite/],
    [[{ ...small, guide: "contrastive", loss: "triplet" }], /sample: loss "triplet": want hnm\|infonce/],
    [[{ ...small, features: model }], /sample: features: ckpt: architecture unet does not match classifier/],
  ];
  for (const [args, re] of cases) {
    await assert.rejects(cdp.sample(...args), re, JSON.stringify(args[0] && Object.keys(args[0])));
  }
  const getter = Object.defineProperty({ model }, "n", { enumerable: true, get() { throw new Error("boom"); } });
  await assert.rejects(cdp.sample(getter), /boom/);
  await assert.rejects(cdp.sample(small, () => { throw new Error("progress failed"); }), /progress failed/);
  const r = await cdp.sample({ model, n: 2, steps: 1 });
  assert.equal(r.n, 2, "the module still answers");
});
