// app.js: the page's UI. All computation happens in worker.js.
"use strict";
let worker;
let nextId = 0;
const pending = new Map();

// startWorker starts (or, after stop, restarts) the module's Web Worker.
function startWorker() {
  worker = new Worker("worker.js");
  worker.onmessage = (ev) => {
    const { id, result, error, progress } = ev.data;
    const p = pending.get(id);
    if (!p) return;
    if (progress) { p.onProgress && p.onProgress(...progress); return; }
    pending.delete(id);
    error ? p.reject(new Error(error)) : p.resolve(result);
  };
}
startWorker();

// stopWorker ends whatever the worker is computing (a running Go call
// cannot be interrupted from the page otherwise): every pending call
// rejects with "stopped", and a fresh worker takes the next ones.
function stopWorker() {
  worker.terminate();
  for (const p of pending.values()) p.reject(new Error("stopped"));
  pending.clear();
  startWorker();
}

function call(name, args, onProgress) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, onProgress });
    worker.postMessage({ id, call: name, args });
  });
}

const $ = (id) => document.getElementById(id);
const url = new URLSearchParams(location.search);
let experiments = [];

function showParams(e) {
  $("description").textContent = e.description;
  const box = $("params");
  box.replaceChildren();
  for (const p of e.params) {
    const label = document.createElement("label");
    label.title = p.description;
    label.textContent = p.name;
    const input = document.createElement("input");
    input.type = "number";
    input.name = p.name;
    input.min = p.min; input.max = p.max;
    input.step = p.integer ? 1 : "any";
    input.value = url.get(p.name) ?? p.default;
    label.append(input);
    box.append(label);
  }
}

const colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"];

function plot(panel) {
  const W = 440, H = 290, L = 52, R = 12, T = 10, B = 40;
  const pts = panel.series.flatMap((s) => s.x.map((x, i) => [x, s.y[i], s.lo ? s.lo[i] : s.y[i], s.hi ? s.hi[i] : s.y[i]]));
  const fx = panel.logx ? Math.log10 : (v) => v;
  const xs = pts.map((p) => fx(p[0])).filter(Number.isFinite);
  const ys = pts.flatMap((p) => [p[1], p[2], p[3]]).filter(Number.isFinite);
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  const sx = (x) => L + (fx(x) - x0) / (x1 - x0) * (W - L - R);
  const sy = (y) => H - B - (y - y0) / (y1 - y0) * (H - T - B);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", W); svg.setAttribute("height", H);
  const add = (tag, attrs, text) => {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    svg.append(el);
  };
  add("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#999" });
  add("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#999" });
  for (let k = 0; k <= 4; k++) {
    const yv = y0 + (y1 - y0) * k / 4, xv = x0 + (x1 - x0) * k / 4;
    add("text", { x: 2, y: sy(yv) + 4 }, yv.toPrecision(3));
    add("text", { x: L + (W - L - R) * k / 4 - 12, y: H - B + 14 }, (panel.logx ? 10 ** xv : xv).toPrecision(3));
  }
  add("text", { x: W / 2 - 40, y: H - 6 }, panel.xlabel);
  panel.series.forEach((s, j) => {
    const c = colors[j % colors.length];
    if (s.lo) {
      const band = s.x.map((x, i) => `${sx(x)},${sy(s.hi[i])}`).concat(s.x.map((x, i) => `${sx(x)},${sy(s.lo[i])}`).reverse());
      add("polygon", { points: band.join(" "), fill: c, "fill-opacity": 0.15 });
    }
    add("polyline", { points: s.x.map((x, i) => `${sx(x)},${sy(s.y[i])}`).join(" "), fill: "none", stroke: c, "stroke-width": 2 });
    add("text", { x: L + 8, y: T + 14 + 14 * j, fill: c, style: `fill:${c}` }, s.name);
  });
  const div = document.createElement("div");
  div.className = "panel";
  const h = document.createElement("h3");
  h.textContent = `${panel.title} (${panel.ylabel})`;
  div.append(h, svg);
  return div;
}

async function run() {
  const e = experiments[$("experiment").selectedIndex];
  const params = {};
  for (const input of $("params").querySelectorAll("input")) params[input.name] = input.value;
  $("error").textContent = "";
  $("run").disabled = true;
  $("status").textContent = "running…";
  const t0 = performance.now();
  try {
    const r = await call("run", [e.name, params, $("seed").value], (done, total) => {
      $("progress").max = total; $("progress").value = done;
    });
    $("plots").replaceChildren(...r.panels.map(plot));
    $("notes").textContent = (r.notes || []).join(" ");
    $("status").textContent = `done in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
  } catch (err) {
    const stopped = err.message === "stopped"; // the sampling section's Stop restarted the worker
    $("error").textContent = stopped ? "" : err.message;
    $("status").textContent = stopped ? "stopped" : "failed";
  } finally {
    $("run").disabled = false;
  }
}

// drawGrid paints n images (size x size with ch channels, 1 or 3, in the
// order (n, size, size, ch)) into the canvas, 10 to a row, scaled 3x.
function drawGrid(canvas, pixels, n, size, ch) {
  const cols = Math.min(10, n), rows = Math.ceil(n / cols), scale = 3;
  canvas.width = cols * size * scale; canvas.height = rows * size * scale;
  canvas.style.width = `${canvas.width}px`;
  const img = new ImageData(cols * size, rows * size);
  for (let k = 0; k < n; k++) {
    const ox = (k % cols) * size, oy = Math.floor(k / cols) * size;
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        const p = ((k * size + r) * size + c) * ch;
        const o = 4 * ((oy + r) * cols * size + ox + c);
        img.data[o] = pixels[p];
        img.data[o + 1] = pixels[ch === 3 ? p + 1 : p];
        img.data[o + 2] = pixels[ch === 3 ? p + 2 : p];
        img.data[o + 3] = 255;
      }
    }
  }
  const small = new OffscreenCanvas(img.width, img.height);
  small.getContext("2d").putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}

let sampled = null; // the last {plain, guided} results

function showFrame() {
  if (!sampled) return;
  const k = Number($("s-frame").value);
  const { plain, guided } = sampled;
  const last = k >= guided.frames.length;
  drawGrid($("s-plain"), last ? plain.images : plain.frames[k].images, plain.n, plain.size, plain.channels);
  drawGrid($("s-guided"), last ? guided.images : guided.frames[k].images, guided.n, guided.size, guided.channels);
  $("s-frame-t").textContent = last ? "final samples" : `x0 predicted at t = ${guided.frames[k].t}`;
}

// ownFile returns the bytes of the file chosen in input id, or undefined.
async function ownFile(id) {
  const f = $(id).files[0];
  return f ? new Uint8Array(await f.arrayBuffer()) : undefined;
}

async function sampleBoth() {
  $("s-run").disabled = true;
  $("s-stop").disabled = false;
  $("s-error").textContent = "";
  $("s-status").textContent = "starting…";
  const num = (id) => Number($(id).value);
  const common = { n: num("s-n"), steps: num("s-steps"), seed: num("s-seed"), frames: Math.max(1, Math.ceil(num("s-steps") / 10)) };
  try {
    const [model, features] = [await ownFile("s-model"), await ownFile("s-features")];
    if (model) common.model = model;
    if (features) common.features = features;
    const guided = { ...common, guide: "contrastive", loss: $("s-loss").value, lambda: num("s-lambda"), window: [num("s-lo"), num("s-hi")] };
    const out = {};
    // The guided run first: its extra options are the ones that can be refused.
    for (const [name, opts] of [["guided", guided], ["plain", common]]) {
      $("s-status").textContent = `sampling ${name}…`;
      out[name] = await call("sample", [opts], (done, total, t) => {
        $("s-progress").max = total; $("s-progress").value = done;
        $("s-status").textContent = `sampling ${name}: step ${done} of ${total} (t = ${t})`;
      });
    }
    sampled = out;
    $("s-frame").max = out.guided.frames.length; // the last position shows the final samples
    $("s-frame").value = $("s-frame").max;
    $("s-frame").disabled = false;
    showFrame();
    const row = (label, f) => `<tr><th>${label}</th><td>${f(out.plain)}</td><td>${f(out.guided)}</td></tr>`;
    $("sstats").innerHTML = "<tr><th></th><th>plain</th><th>guided</th></tr>" +
      row("mean feature cosine", (r) => r.stats ? r.stats.meanCosine.toFixed(3) : "–") +
      row("classified as their label", (r) => r.stats ? `${(100 * r.stats.agreement).toFixed(0)}%` : "–") +
      row("seconds", (r) => r.seconds.toFixed(1)) +
      row("image-steps/s", (r) => r.imageStepsPerSec.toFixed(0));
    $("s-status").textContent = `done: ${out.guided.guidance}`;
  } catch (err) {
    const stopped = err.message === "stopped";
    $("s-error").textContent = stopped ? "" : err.message;
    $("s-status").textContent = stopped ? "stopped" : "failed";
  } finally {
    $("s-run").disabled = false;
    $("s-stop").disabled = true;
  }
}

(async () => {
  try {
    const info = await call("info");
    experiments = await call("experiments");
    for (const e of experiments) $("experiment").append(new Option(e.name, e.name));
    const want = url.get("experiment");
    if (want && experiments.some((e) => e.name === want)) $("experiment").value = want;
    if (url.get("seed")) $("seed").value = url.get("seed");
    showParams(experiments[$("experiment").selectedIndex]);
    $("experiment").onchange = () => showParams(experiments[$("experiment").selectedIndex]);
    $("run").onclick = run;
    $("run").disabled = false;
    const show = url.get("show");
    if (show === "theory" || show === "sampling") $(show === "theory" ? "sampling" : "theory").hidden = true;
    for (const input of $("sparams").querySelectorAll("input, select")) {
      if (url.has(input.id)) input.value = url.get(input.id);
    }
    $("s-run").onclick = sampleBoth;
    $("s-stop").onclick = stopWorker;
    $("s-run").disabled = false;
    $("s-frame").oninput = showFrame;
    $("status").textContent = `cdp ${info.version}, kernels ${info.impl}`;
  } catch (err) {
    $("error").textContent = `could not start the module: ${err.message}`;
  }
})();
