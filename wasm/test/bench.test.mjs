// Tests of cdp.benchUNet, the browser module's U-Net forward benchmark
// (scripts/bench-browser.sh times it against onnxruntime-web in Chromium).
// Run by ./build.sh test after ./build.sh wasm:
//   node --experimental-wasm-relaxed-simd --test wasm/test/
// CDP_WASM_KERNELS=relaxed|simd128|none forces a kernel build.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadCDP } from "../node.mjs";
import zlib from "node:zlib";

const { cdp, kernels } = await loadCDP();

const tiny = { model: "unet-tiny", batch: 2, warmup: 0 };

test("benchUNet times forward passes and reports consistent figures", async () => {
  const r = await cdp.benchUNet({ ...tiny, reps: 3, seed: 3 });
  assert.equal(r.model, "unet-tiny");
  assert.equal(r.batch, 2);
  assert.equal(r.reps, 3);
  assert.equal(r.impl, cdp.impl());
  assert.equal(r.weights, "random");
  assert.equal(r.ms.length, 3);
  for (const m of r.ms) assert.ok(m >= 0 && Number.isFinite(m), `time ${m}`);
  const sorted = [...r.ms].sort((a, b) => a - b);
  assert.equal(r.msBest, sorted[0]);
  assert.equal(r.msPerForward, sorted[1]);
  assert.ok(Math.abs(r.imageStepsPerSec - 2000 / r.msPerForward) <= 1e-9 * r.imageStepsPerSec);
  assert.ok(Number.isInteger(r.gcCycles) && r.gcCycles >= 0, `gcCycles ${r.gcCycles}`);
  assert.ok(r.heapMB > 0, `heapMB ${r.heapMB}`);
  assert.equal(r.x, undefined, "no tensors unless asked for");
});

test("benchUNet defaults to unet-small, whose cost MODELS.md gives", async () => {
  const r = await cdp.benchUNet({ batch: 1, reps: 1, warmup: 0 });
  assert.equal(r.model, "unet-small");
  assert.equal(r.warmup, 0);
  // MODELS.md: 0.355 GMAC per 32x32 image.
  assert.ok(Math.abs(r.flopsPerImage / 0.71e9 - 1) < 0.01, `flopsPerImage ${r.flopsPerImage}`);
});

test("benchUNet tensors: inputs and eps are reproducible from the seed", async () => {
  const a = await cdp.benchUNet({ ...tiny, reps: 1, seed: 5, tensors: true });
  const b = await cdp.benchUNet({ ...tiny, reps: 2, warmup: 1, seed: 5, tensors: true });
  const c = await cdp.benchUNet({ ...tiny, reps: 1, seed: 6, tensors: true });
  assert.ok(a.x instanceof Float32Array && a.out instanceof Float32Array);
  assert.ok(a.t instanceof Int32Array && a.y instanceof Int32Array);
  assert.equal(a.x.length, 2 * 32 * 32);
  assert.equal(a.out.length, 2 * 32 * 32);
  for (const t of a.t) assert.ok(t >= 1 && t <= 1000, `t ${t}`);
  for (const y of a.y) assert.ok(y >= 0 && y < 10, `y ${y}`);
  assert.ok(a.out.every(Number.isFinite));
  assert.ok(a.out.some((v) => v !== 0));
  assert.deepEqual(b.x, a.x);
  assert.deepEqual(b.out, a.out, "same seed, same eps, however many forward passes");
  assert.notDeepEqual(c.x, a.x);
  assert.notDeepEqual(c.out, a.out);
});

// npz builds an uncompressed .npz (a zip of .npy files) of float32 arrays.
function npz(arrays) {
  const files = [], central = [];
  let offset = 0;
  const u16 = (v) => Buffer.from([v & 255, v >> 8]);
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
  for (const [name, shape, values] of arrays) {
    let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
    header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
    const data = Buffer.concat([Buffer.from("\x93NUMPY\x01\x00", "latin1"), u16(header.length), Buffer.from(header),
      Buffer.from(new Float32Array(values).buffer)]);
    const fname = Buffer.from(name + ".npy");
    const crc = zlib.crc32(data);
    const common = [u16(20), u16(0), u16(0), u16(0), u16(0), u32(crc), u32(data.length), u32(data.length), u16(fname.length), u16(0)];
    const local = Buffer.concat([u32(0x04034b50), ...common, fname, data]);
    central.push(Buffer.concat([u32(0x02014b50), u16(20), ...common, u16(0), u16(0), u16(0), u32(0), u32(offset), fname]));
    files.push(local);
    offset += local.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.concat([u32(0x06054b50), u16(0), u16(0), u16(arrays.length), u16(arrays.length), u32(cd.length), u32(offset), u16(0)]);
  return new Uint8Array(Buffer.concat([...files, cd, end]));
}

test("benchUNet weights: an archive that does not fit the model is refused by name", async () => {
  await assert.rejects(cdp.benchUNet({ ...tiny, reps: 1, weights: npz([["nosuch", [2], [1, 2]]]) }),
    /weights: ckpt: npz archive lacks "conv_in.weight".* and has unexpected "nosuch"/);
  await assert.rejects(cdp.benchUNet({ ...tiny, reps: 1, weights: new Uint8Array([1, 2, 3, 4]) }), /weights: ckpt: /);
});

test("benchUNet refuses hostile options with a message that names the problem", async () => {
  const hostileGetter = { get batch() { throw new Error("boom"); } };
  const proxy = new Proxy({}, { ownKeys() { throw new Error("trap"); } });
  const cases = [
    ["x", /options must be an object, got string "x"/],
    [42, /options must be an object, got number/],
    [[1, 2], /options must be an object, got \[object Array\]/],
    [{ nosuch: 1 }, /no option "nosuch"/],
    [{ model: 3 }, /model must be a string, got number/],
    [{ model: "nosuch" }, /unknown preset "nosuch"/],
    [{ model: "x".repeat(100000) }, /model name of 100000 bytes is no preset/],
    [{ batch: 0 }, /batch = 0 must be an integer in \[1, 64\]/],
    [{ batch: -1 }, /batch = -1 must be an integer/],
    [{ batch: 1.5 }, /batch = 1.5 must be an integer/],
    [{ batch: NaN }, /batch = NaN must be an integer/],
    [{ batch: Infinity }, /batch = \+Inf must be an integer/],
    [{ batch: 1e12 }, /batch = 1e\+12 must be an integer in \[1, 64\]/],
    [{ batch: "16" }, /batch must be an integer in \[1, 64\], got string "16"/],
    [{ batch: 2n }, /batch must be an integer .*got \[object BigInt\]/],
    [2n, /options must be an object, got \[object BigInt\]/],
    [{ batch: Symbol("s") }, /batch must be an integer .*got symbol/],
    [{ reps: 0 }, /reps = 0 must be an integer in \[1, 100\]/],
    [{ reps: 101 }, /reps = 101/],
    [{ warmup: -1 }, /warmup = -1 must be an integer in \[0, 20\]/],
    [{ seed: -1 }, /seed = -1 must be an integer/],
    [{ seed: 2 ** 60 }, /seed = 1.15\d*e\+18 must be an integer/],
    [{ tensors: 1 }, /tensors must be true or false, got number/],
    [{ weights: [1, 2] }, /weights must be a Uint8Array .*got \[object Array\]/],
    [{ weights: new Float32Array(4) }, /weights must be a Uint8Array .*got \[object Float32Array\]/],
    [{ weights: "npz" }, /weights must be a Uint8Array .*got string/],
    [hostileGetter, /boom/],
    [proxy, /trap/],
  ];
  for (const [i, [opts, re]] of cases.entries()) {
    await assert.rejects(cdp.benchUNet(opts), re, `case ${i}: ${re}`);
  }
  // The module survives all that.
  const r = await cdp.benchUNet({ ...tiny, reps: 1, weights: null, tensors: false });
  assert.equal(r.reps, 1);
});
