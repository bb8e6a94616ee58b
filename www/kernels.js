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
// holds small forwarding functions (trampolines) that call the kernel instance
// created by attach. The build is chosen with WebAssembly.validate: relaxed,
// then SIMD128, then none. With none, kernels.imports reports level 0 and Go
// runs its generic kernels (simd.Impl() says "generic"); its other functions
// throw, since Go never calls them at level 0.
"use strict";

(() => {
  // The kernels Go imports (module "cdpkernels"), with their arity.
  const KERNELS = {
    dot: 3, sum_squares: 2, max: 2, axpy: 4, scale: 3, add: 4, mul: 4,
    reverse_step: 8, reverse_step_guided: 10, exp_sub_sum: 3, gemm_4x8: 5, gemm_block_4x8: 7,
    pack_a_4: 5, pack_a_4t: 5, pack_b_8: 4, pack_b_8t: 4,
  };
  const BUILDS = [
    { name: "relaxed", file: "kernels-relaxed.wasm", level: 2 },
    { name: "simd128", file: "kernels-simd128.wasm", level: 1 },
  ];

  // trampoline returns a function of the given arity that calls
  // target()[name]; fixed arities keep the call cheap for the engine.
  function trampoline(get, name, arity) {
    switch (arity) {
      case 2: return (a, b) => get()[name](a, b);
      case 3: return (a, b, c) => get()[name](a, b, c);
      case 4: return (a, b, c, d) => get()[name](a, b, c, d);
      case 5: return (a, b, c, d, e) => get()[name](a, b, c, d, e);
      case 7: return (a, b, c, d, e, f, g) => get()[name](a, b, c, d, e, f, g);
      case 8: return (a, b, c, d, e, f, g, h) => get()[name](a, b, c, d, e, f, g, h);
      case 10: return (a, b, c, d, e, f, g, h, i, j) => get()[name](a, b, c, d, e, f, g, h, i, j);
      default: throw new Error(`cdp kernels: no trampoline of arity ${arity}`);
    }
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
  //   log(message): told why a build was passed over.
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
    const get = () => exports;
    const imports = { level: () => (chosen && exports ? chosen.level : 0) };
    for (const [name, arity] of Object.entries(KERNELS)) {
      imports[name] = chosen ? trampoline(get, name, arity) : () => {
        throw new Error(`cdp kernels: ${name} called but no SIMD build is loaded`);
      };
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
        const inst = await WebAssembly.instantiate(module, { env: { memory } });
        exports = inst.exports;
        if (exports.level() !== chosen.level) throw new Error(`cdp kernels: ${chosen.file} reports level ${exports.level()}, want ${chosen.level}`);
      },
    };
  }

  globalThis.CDPKernels = { load, KERNELS, BUILDS };
})();
