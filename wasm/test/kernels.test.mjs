// Tests of the SIMD kernel loader www/kernels.js under node's test runner:
//   scripts/wasm-kernels.sh && node --experimental-wasm-relaxed-simd --test wasm/test/
// (node 20 runs the relaxed build only with that flag; without it the loader
// must pick SIMD128.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
await import(path.join(root, "www/kernels.js"));
const { load, KERNELS } = globalThis.CDPKernels;
const fromDisk = async (file) => readFileSync(path.join(root, "www", file));
const bytes = (file) => readFileSync(path.join(root, "www", file));

test("auto picks the best build this engine validates", async () => {
  const want = WebAssembly.validate(bytes("kernels-relaxed.wasm")) ? "relaxed"
    : WebAssembly.validate(bytes("kernels-simd128.wasm")) ? "simd128" : "none";
  const k = await load({ fetchBytes: fromDisk });
  assert.equal(k.build, want);
  assert.equal(k.level, { relaxed: 2, simd128: 1, none: 0 }[want]);
  // Before attach the Go module would see level 0: never SIMD without kernels.
  assert.equal(k.imports.level(), 0);
});

test("an engine that cannot run a build falls back to the next, then to none", async () => {
  const junk = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]); // not a valid module
  const logs = [];
  const noRelaxed = await load({
    fetchBytes: async (f) => (f === "kernels-relaxed.wasm" ? junk : fromDisk(f)),
    log: (m) => logs.push(m),
  });
  assert.equal(noRelaxed.build, "simd128");
  assert.match(logs.join("\n"), /cannot run the relaxed build/);
  const noSimd = await load({ fetchBytes: async () => junk });
  assert.equal(noSimd.build, "none");
  assert.equal(noSimd.level, 0);
  assert.equal(noSimd.imports.level(), 0);
  await noSimd.attach(new WebAssembly.Memory({ initial: 1 })); // a no-op
  assert.equal(noSimd.imports.level(), 0);
  assert.throws(() => noSimd.imports.dot(0, 0, 1), /no SIMD build is loaded/);
  for (const name of Object.keys(KERNELS)) assert.equal(typeof noSimd.imports[name], "function", name);
});

test("a forced build is that build or an error", async () => {
  const k = await load({ fetchBytes: fromDisk, force: "simd128" });
  assert.equal(k.build, "simd128");
  const none = await load({ fetchBytes: fromDisk, force: "none" });
  assert.equal(none.build, "none");
  await assert.rejects(load({ fetchBytes: fromDisk, force: "avx" }), /unknown build "avx"/);
  await assert.rejects(load({ fetchBytes: async () => { throw new Error("ENOENT"); }, force: "simd128" }),
    /build simd128 requested but kernels-simd128.wasm: ENOENT/);
  if (!WebAssembly.validate(bytes("kernels-relaxed.wasm"))) {
    await assert.rejects(load({ fetchBytes: fromDisk, force: "relaxed" }), /cannot run the relaxed build/);
  }
});

test("the trampolines reach the kernels on the attached memory", async () => {
  for (const build of ["simd128", "relaxed"]) {
    if (!WebAssembly.validate(bytes(`kernels-${build}.wasm`))) continue;
    const k = await load({ fetchBytes: fromDisk, force: build });
    const mem = new WebAssembly.Memory({ initial: 1 });
    await assert.rejects(k.attach({}), /needs the Go instance's exported mem/);
    await k.attach(mem);
    assert.equal(k.imports.level(), k.level);
    const f = new Float32Array(mem.buffer);
    const n = 23, x = 4, y = 64; // float offsets; odd start of y on purpose
    let want = 0;
    for (let i = 0; i < n; i++) {
      f[x + i] = Math.fround((i % 7) - 3.5);
      f[y + i] = Math.fround(0.25 * i);
      want += f[x + i] * f[y + i];
    }
    assert.equal(k.imports.dot(4 * x, 4 * y, n), Math.fround(want), `${build} dot`);
    k.imports.axpy(2, 4 * x, 4 * y, n);
    for (let i = 0; i < n; i++) assert.equal(f[y + i], Math.fround(0.25 * i + 2 * f[x + i]), `${build} axpy [${i}]`);
    // Memory growth (Go's heap grows) is seen by the kernels.
    mem.grow(1);
    const g = new Float32Array(mem.buffer);
    g[16384 + 1] = 7;
    assert.equal(k.imports.max(4 * 16384, 4), 7);
  }
});

test("the Go module runs on each build and says which through impl()", () => {
  const flags = ["--experimental-wasm-relaxed-simd"];
  const script = `
    const fs = require("fs"), path = require("path");
    require(path.join(${JSON.stringify(root)}, "www/wasm_exec.js"));
    require(path.join(${JSON.stringify(root)}, "www/kernels.js"));
    (async () => {
      const k = await CDPKernels.load({ force: process.argv[1], fetchBytes: async (f) => fs.readFileSync(path.join(${JSON.stringify(root)}, "www", f)) });
      const go = new Go();
      go.importObject.cdpkernels = k.imports;
      const ready = new Promise((r) => { globalThis.cdpReady = r; });
      const { instance } = await WebAssembly.instantiate(fs.readFileSync(path.join(${JSON.stringify(root)}, "www/cdp.wasm")), go.importObject);
      await k.attach(instance.exports.mem);
      go.run(instance);
      await ready;
      console.log(globalThis.cdp.impl());
      process.exit(0);
    })().catch((e) => { console.error(e); process.exit(1); });`;
  for (const [build, impl] of [["none", "generic"], ["simd128", "wasm-simd128"], ["relaxed", "wasm-relaxed"]]) {
    const out = execFileSync(process.execPath, [...flags, "-e", script, build], { encoding: "utf8" }).trim();
    assert.equal(out, impl, `build ${build}`);
  }
});
