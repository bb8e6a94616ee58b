// kernels.js loads the WebAssembly SIMD kernels of package simd for the cdp
// module (cdp.wasm) and wires them to it. Go emits no wasm SIMD, so the float32
// kernels are a separate small module (kernels-relaxed.wasm with relaxed SIMD,
// kernels-simd128.wasm with SIMD128, both built from simd/wat/kernels.wat by
// scripts/wasm-kernels.sh) that works directly on the Go instance's memory.
//
// Like wasm_exec.js it is a plain script that defines one global, so that the
// page (<script src>), a classic Web Worker (importScripts) and node (require
// or import) all use it the same way:
//
//   const kernels = await CDPKernels.load({ fetchBytes });   // pick a build
//   go.importObject.cdpkernels = kernels.imports;             // before instantiating Go
//   const { instance } = await WebAssembly.instantiate(goBytes, go.importObject);
//   await kernels.attach(instance.exports.mem);               // before go.run
//   go.run(instance);
//
// The Go module imports the kernels when it is instantiated, and the kernel
// module imports the Go memory, which exists only after that: kernels.imports
// holds the functions of a small forwarding module (built here, see
// forwarderBytes) that call the kernel instance created by attach through a
// table, wasm to wasm. The build is chosen with WebAssembly.validate: relaxed,
// then SIMD128, then none. With none, kernels.imports reports level 0 and Go
// runs its generic kernels (simd.Impl() says "generic"); its other functions
// throw, since Go never calls them at level 0.
"use strict";

(() => {
  // The kernels Go imports (module "cdpkernels"), with their wasm types:
  // parameters, then ":" and the result if any (i = i32, l = i64, f = f32).
  const KERNELS = {
    dot: "iii:f", sum_squares: "ii:f", max: "ii:f", axpy: "fiii", scale: "fii", add: "iiii", mul: "iiii",
    reverse_step: "iiiiifff", reverse_step_guided: "iiiiiiffff", exp_sub_sum: "iif:f",
    gemm_2x16: "iiiiii", gemm_block_2x16: "iiiiiiii", pack_a_2: "iiiif", pack_a_2t: "iiiif",
    pack_b_16: "iiii", pack_b_16t: "iiii", gemm_4x8: "iiiiii", gemm_block_4x8: "iiiiiiii", pack_a_4: "iiiif",
    pack_a_4t: "iiiif", pack_b_8: "iiii", pack_b_8t: "iiii", gather16: "iiiii", offs_range: "ii:l", silu: "iiii",
    center_sum_squares: "iiif:f", normalize_affine: "iiifff",
  };
  const BUILDS = [
    { name: "relaxed", file: "kernels-relaxed.wasm", level: 2 },
    { name: "simd128", file: "kernels-simd128.wasm", level: 1 },
  ];

  // forwarderBytes returns a small wasm module that imports a table of
  // functions ("t" "table") and exports, for kernel number k in order, a
  // function of the kernel's type that calls table entry k with its
  // arguments (call_indirect). Go imports these; attach fills the table with
  // the kernel instance's exports. Every kernel call then stays inside wasm,
  // with no JavaScript in between: under node 20 an empty kernel call took
  // 27-42 ns this way against 41-63 ns through a JavaScript trampoline, in
  // the same runs (simd BenchmarkWasmCall).
  function forwarderBytes(types) {
    const uleb = (n) => { const out = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n); return out; };
    const str = (t) => [...uleb(t.length), ...Array.from(t, (c) => c.charCodeAt(0))];
    const vec = (items) => [...uleb(items.length), ...items.flat()];
    const section = (id, body) => [id, ...uleb(body.length), ...body];
    const valtype = { i: 0x7f, l: 0x7e, f: 0x7d };
    const sigs = types.map((t) => {
      const [params, result = ""] = t.split(":");
      return [0x60, ...vec(Array.from(params, (c) => [valtype[c]])), ...vec(Array.from(result, (c) => [valtype[c]]))];
    });
    const names = Object.keys(KERNELS);
    const bodies = types.map((t, k) => {
      const params = t.split(":")[0];
      const code = [];
      for (let i = 0; i < params.length; i++) code.push(0x20, ...uleb(i)); // local.get i
      code.push(0x41, ...uleb(k)); // i32.const k (unsigned LEB is fine below 64)
      code.push(0x11, ...uleb(k), 0x00); // call_indirect (type k) (table 0)
      code.push(0x0b);
      const body = [0x00, ...code]; // no locals
      return [...uleb(body.length), ...body];
    });
    if (types.length > 63) throw new Error("cdp kernels: too many kernels for the forwarder's i32.const encoding");
    return new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      ...section(1, vec(sigs)),
      // import "t" "table": table of funcref, min = number of kernels
      ...section(2, vec([[...str("t"), ...str("table"), 0x01, 0x70, 0x00, ...uleb(types.length)]])),
      ...section(3, vec(types.map((_, k) => uleb(k)))),
      ...section(7, vec(names.map((n, k) => [...str(n), 0x00, ...uleb(k)]))),
      ...section(10, vec(bodies)),
    ]);
  }

  // Warm-up calls, one list of arguments per kernel, on a scratch memory of
  // 4 pages: regions of 64 KiB at P0..P3 (zeros, so the offsets that
  // gather16 reads from P2 are 0), 1024 floats or 64 rows per call.
  const P0 = 0, P1 = 65536, P2 = 131072, P3 = 196608, N = 1024;
  const WARM = {
    dot: [P0, P1, N], sum_squares: [P0, N], max: [P0, N], axpy: [0.5, P0, P1, N], scale: [0.5, P0, N],
    add: [P0, P1, P3, N], mul: [P0, P1, P3, N], reverse_step: [P0, P1, P2, P3, N, 0.5, 0.25, 0.125],
    reverse_step_guided: [P0, P1, P2, P3, P0, N, 0.5, 0.25, 0.125, 0.5], exp_sub_sum: [P0, N, 0],
    gemm_2x16: [64, P0, P1, P3, 16, 0], gemm_block_2x16: [64, P0, P1, P3, 32, 8, 32, 0],
    pack_a_2: [P3, P0, 64, 64, 1], pack_a_2t: [P3, P0, 2, 64, 1], pack_b_16: [P3, P0, 16, 64], pack_b_16t: [P3, P0, 64, 64],
    gemm_4x8: [64, P0, P1, P3, 8, 0], gemm_block_4x8: [64, P0, P1, P3, 16, 8, 16, 0],
    pack_a_4: [P3, P0, 64, 64, 1], pack_a_4t: [P3, P0, 4, 64, 1], pack_b_8: [P3, P0, 8, 64], pack_b_8t: [P3, P0, 64, 64],
    gather16: [P3, P0, P2, 64, 0], offs_range: [P2, 256], silu: [P0, P1, P3, N], center_sum_squares: [P0, P1, N, 0.5],
    normalize_affine: [P0, P1, N, 0.5, 0.25, 0.125],
  };

  // warmUp runs every kernel a few hundred times on a scratch instance of
  // module. V8 first compiles a function with its baseline compiler
  // (Liftoff) and recompiles it with its optimising compiler (TurboFan) in
  // the background only after it has run a while; a call that is running
  // stays in the baseline code, which for these kernels is several times
  // slower. Compiled code belongs to the module and serves every instance, so
  // the Go instance's first kernel calls run optimised code (in engines
  // without such tiering this costs a few milliseconds and changes nothing).
  async function warmUp(module) {
    const { exports } = await WebAssembly.instantiate(module, { env: { memory: new WebAssembly.Memory({ initial: 4 }) } });
    for (let i = 0; i < 300; i++) {
      for (const [name, args] of Object.entries(WARM)) exports[name](...args);
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }

  // defaultFetch fetches a file beside this script (browser and worker).
  function defaultFetch(base) {
    return async (file) => {
      const resp = await fetch(new URL(file, base));
      if (!resp.ok) throw new Error(`cdp kernels: ${file}: HTTP ${resp.status}`);
      return new Uint8Array(await resp.arrayBuffer());
    };
  }

  const scriptBase = (typeof document !== "undefined" && document.currentScript && document.currentScript.src) ||
    (typeof location !== "undefined" ? location.href : undefined);

  // load picks and compiles a kernel build. Options:
  //   fetchBytes(file) -> Promise<Uint8Array|ArrayBuffer>: reads a build
  //     (default: fetch beside this script / the page);
  //   force: "relaxed", "simd128" or "none" to take that build only (an
  //     error if the engine cannot run it or the file is missing), or
  //     "auto"/undefined for the best one that validates;
  //   log(message): told why a build was passed over;
  //   warmUp: false to skip running the kernels on scratch memory before
  //     attach returns (see warmUp).
  // It resolves to { build, level, imports, attach(memory), reason }.
  async function load(options = {}) {
    const fetchBytes = options.fetchBytes || defaultFetch(options.base || scriptBase);
    const force = options.force && options.force !== "auto" ? options.force : undefined;
    const log = options.log || (() => {});
    if (force && force !== "none" && !BUILDS.some((b) => b.name === force)) {
      throw new Error(`cdp kernels: unknown build "${force}" (relaxed, simd128, none)`);
    }
    let chosen = null, module = null, reason = "";
    for (const b of BUILDS) {
      if (force && force !== b.name) continue;
      let bytes;
      try {
        bytes = await fetchBytes(b.file);
      } catch (err) {
        reason = `${b.file}: ${err && err.message || err}`;
        if (force) throw new Error(`cdp kernels: build ${force} requested but ${reason}`);
        log(reason);
        continue;
      }
      if (!WebAssembly.validate(bytes)) {
        reason = `this engine cannot run the ${b.name} build`;
        if (force) throw new Error(`cdp kernels: ${reason}`);
        log(reason);
        continue;
      }
      module = await WebAssembly.compile(bytes);
      chosen = b;
      break;
    }
    let exports = null;
    const imports = { level: () => (chosen && exports ? chosen.level : 0) };
    const names = Object.keys(KERNELS);
    let table = null;
    if (chosen) {
      table = new WebAssembly.Table({ element: "anyfunc", initial: names.length });
      const fwd = await WebAssembly.instantiate(forwarderBytes(Object.values(KERNELS)), { t: { table } });
      for (const name of names) imports[name] = fwd.instance.exports[name];
    } else {
      for (const name of names) {
        imports[name] = () => {
          throw new Error(`cdp kernels: ${name} called but no SIMD build is loaded`);
        };
      }
    }
    return {
      build: chosen ? chosen.name : "none",
      level: chosen ? chosen.level : 0,
      reason: chosen ? "" : reason || "no build requested",
      imports,
      // attach instantiates the kernels on the Go instance's memory
      // (instance.exports.mem); call it after instantiating Go, before go.run.
      async attach(memory) {
        if (!chosen) return;
        if (!(memory instanceof WebAssembly.Memory)) throw new Error("cdp kernels: attach needs the Go instance's exported mem");
        if (options.warmUp !== false) await warmUp(module);
        const inst = await WebAssembly.instantiate(module, { env: { memory } });
        names.forEach((name, k) => table.set(k, inst.exports[name]));
        exports = inst.exports;
        if (exports.level() !== chosen.level) throw new Error(`cdp kernels: ${chosen.file} reports level ${exports.level()}, want ${chosen.level}`);
      },
    };
  }

  for (const name of Object.keys(KERNELS)) {
    if (!WARM[name]) throw new Error(`cdp kernels: no warm-up call for ${name}`);
  }
  globalThis.CDPKernels = { load, KERNELS, BUILDS };
})();
