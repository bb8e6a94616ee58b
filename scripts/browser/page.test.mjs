// page.test.mjs: a smoke test of the real page (www/index.html) in headless
// Chromium: the module loads in its worker with SIMD kernels, an experiment
// run from the page's own controls draws its plots, a bad parameter is
// reported on the page, and nothing logs a console error, throws a page
// error or fails to load. Run by scripts/browser-test.sh (which installs
// chromium and playwright-core and builds www/ first):
//   node --test scripts/browser/
// CDP_PAGE_DIR serves another copy of the page instead of www/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { serve } from "./server.mjs";
import { launch, root } from "./chromium.mjs";

let srv, chrome;
let problems = []; // of the page that open() loaded last (the tests run one by one)

before(async () => {
  srv = await serve({ "/": process.env.CDP_PAGE_DIR || path.join(root, "www") }, {
    onError: (status, url) => problems.push(`HTTP ${status} for ${url}`),
  });
  chrome = await launch();
});

after(async () => {
  await chrome?.close();
  await srv?.close();
});

// open loads the page and collects its errors into a fresh problems.
async function open(query = "") {
  problems = [];
  const page = await chrome.context.newPage();
  page.setDefaultTimeout(60_000);
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console error: ${m.text()}`); });
  page.on("worker", (w) => w.on("console", (m) => { if (m.type() === "error") problems.push(`worker console error: ${m.text()}`); }));
  await page.goto(`${srv.url}/index.html${query}`);
  await page.waitForFunction(() => !document.getElementById("run").disabled || document.getElementById("error").textContent !== "");
  assert.equal(await page.textContent("#error"), "", "the module started");
  return page;
}

test("the page loads the module with SIMD kernels and runs an experiment from its controls", async () => {
  const page = await open();
  const status = await page.textContent("#status");
  assert.match(status, /^cdp \S+, kernels wasm-(relaxed|simd128)$/, "Chromium runs a SIMD kernel build");
  const names = await page.$$eval("#experiment option", (os) => os.map((o) => o.value));
  assert.ok(names.includes("spread"), `experiments listed: ${names}`);
  await page.selectOption("#experiment", "spread");
  // Small sizes keep the run short; the fields are the page's own inputs.
  for (const [name, value] of Object.entries({ d: "10", reps: "20", points: "3", logistic: "0" })) {
    await page.fill(`#params input[name="${name}"]`, value);
  }
  await page.fill("#seed", "3");
  await page.click("#run");
  await page.waitForFunction(() => /^(done|failed)/.test(document.getElementById("status").textContent));
  assert.equal(await page.textContent("#error"), "");
  assert.match(await page.textContent("#status"), /^done in \d+\.\d s$/);
  const panels = await page.$$eval("#plots .panel", (ps) => ps.map((p) => ({
    title: p.querySelector("h3").textContent,
    lines: [...p.querySelectorAll("polyline")].map((l) => l.getAttribute("points").trim().split(/\s+/).length),
  })));
  assert.ok(panels.length > 0, "plots appear");
  for (const p of panels) {
    assert.ok(p.lines.length > 0, `${p.title} has curves`);
    for (const n of p.lines) assert.equal(n, 3, `${p.title}: one point per value of 'points'`);
  }
  const coords = await page.$$eval("#plots polyline", (ls) => ls.flatMap((l) => l.getAttribute("points").trim().split(/[\s,]+/).map(Number)));
  assert.ok(coords.every(Number.isFinite), "every plotted coordinate is a number");
  assert.deepEqual(problems, []);
  await page.close();
});

test("a parameter out of range is reported on the page, not thrown", async () => {
  const page = await open("?experiment=spread");
  assert.equal(await page.inputValue("#experiment"), "spread", "the URL picks the experiment");
  await page.fill('#params input[name="d"]', "0");
  await page.click("#run");
  await page.waitForFunction(() => /^(done|failed)/.test(document.getElementById("status").textContent));
  assert.equal(await page.textContent("#status"), "failed");
  assert.match(await page.textContent("#error"), /parameter d = 0 must be an integer in \[1, 5000\]/);
  assert.equal(await page.isEnabled("#run"), true, "the page can run again");
  assert.deepEqual(problems, []);
  await page.close();
});

test("the sampling section draws plain and guided digits from the page's models", async () => {
  const page = await open("?show=sampling&s-n=10&s-steps=6&s-seed=2");
  assert.equal(await page.isVisible("#theory"), false, "show=sampling hides the theory section");
  assert.equal(await page.inputValue("#s-n"), "10", "the URL fills the sampling controls");
  await page.click("#s-run");
  await page.waitForFunction(() => /^(done|failed)/.test(document.getElementById("s-status").textContent));
  assert.equal(await page.textContent("#s-error"), "");
  assert.match(await page.textContent("#s-status"), /^done: contrastive hnm lambda=100000 window 52:150 /);
  for (const id of ["s-plain", "s-guided"]) {
    const { w, h, lit } = await page.$eval(`#${id}`, (c) => {
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let lit = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > 128) lit++;
      return { w: c.width, h: c.height, lit: lit / (d.length / 4) };
    });
    assert.deepEqual([w, h], [10 * 28 * 3, 28 * 3], `${id}: one row of ten 28x28 images, 3x`);
    assert.ok(lit > 0.02 && lit < 0.6, `${id}: digits drawn (${lit} of the pixels bright)`);
  }
  const stats = await page.$$eval("#sstats tr", (rs) => rs.map((r) => [...r.children].map((c) => c.textContent)));
  assert.equal(stats[1][0], "mean feature cosine");
  for (const v of stats[1].slice(1)) assert.ok(Math.abs(Number(v)) <= 1, `cosine ${v}`);
  // The slider shows the prediction of x0 during sampling.
  assert.equal(await page.isEnabled("#s-frame"), true);
  const pixels = () => page.$eval("#s-guided", (c) => Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data));
  const final = await pixels();
  await page.fill("#s-frame", "0");
  await page.dispatchEvent("#s-frame", "input");
  assert.match(await page.textContent("#s-frame-t"), /^x0 predicted at t = \d+$/);
  assert.notDeepEqual(await pixels(), final, "the first prediction of x0 is not the final sample");
  await page.fill("#s-frame", await page.getAttribute("#s-frame", "max"));
  await page.dispatchEvent("#s-frame", "input");
  assert.equal(await page.textContent("#s-frame-t"), "final samples");
  assert.deepEqual(await pixels(), final);
  // A bad value is reported on the page.
  await page.fill("#s-lo", "0");
  await page.click("#s-run");
  await page.waitForFunction(() => document.getElementById("s-error").textContent !== "");
  assert.match(await page.textContent("#s-error"), /window 0:150: want LO:HI/);
  assert.equal(await page.isEnabled("#s-run"), true);
  assert.deepEqual(problems, []);
  await page.close();
});

test("the sampling section takes the user's own checkpoint files", async () => {
  const page = await open("?show=sampling&s-n=4&s-steps=3");
  await page.setInputFiles("#s-model", path.join(root, "www/models/unet-tiny-mnist.ckpt"));
  await page.setInputFiles("#s-features", { name: "broken.ckpt", mimeType: "application/octet-stream", buffer: Buffer.from("not a checkpoint") });
  await page.click("#s-run");
  await page.waitForFunction(() => /^(done|failed)/.test(document.getElementById("s-status").textContent));
  assert.match(await page.textContent("#s-error"), /^cdp: sample: features: ckpt: /);
  // The user's features file chosen is a real one now: sampling succeeds.
  await page.setInputFiles("#s-features", path.join(root, "www/models/mnist-net-mnist.ckpt"));
  await page.click("#s-run");
  await page.waitForFunction(() => /^(done|failed)/.test(document.getElementById("s-status").textContent));
  assert.equal(await page.textContent("#s-error"), "");
  assert.match(await page.textContent("#s-status"), /^done: contrastive /);
  assert.deepEqual(problems, []);
  await page.close();
});

test("the page draws a 3-channel model's samples in colour", async () => {
  const page = await open("?show=sampling&s-n=4&s-steps=3");
  await page.setInputFiles("#s-model", path.join(root, "wasm/test/testdata/rgb-unet.ckpt"));
  await page.setInputFiles("#s-features", path.join(root, "wasm/test/testdata/rgb-net.ckpt"));
  await page.click("#s-run");
  await page.waitForFunction(() => /^(done|failed)/.test(document.getElementById("s-status").textContent));
  assert.equal(await page.textContent("#s-error"), "");
  const grey = await page.$eval("#s-plain", (c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let grey = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] === d[i + 1] && d[i + 1] === d[i + 2]) grey++;
    return grey / (d.length / 4);
  });
  assert.ok(grey < 0.5, `a random colour model's samples are not grey (${grey} of the pixels are)`);
  assert.deepEqual(problems, []);
  await page.close();
});

test("Stop ends a long sampling run and the page samples again", async () => {
  const page = await open("?show=sampling&s-n=200&s-steps=1000");
  assert.equal(await page.isEnabled("#s-stop"), false, "nothing to stop yet");
  await page.click("#s-run");
  await page.waitForFunction(() => /step \d+ of/.test(document.getElementById("s-status").textContent));
  await page.click("#s-stop");
  await page.waitForFunction(() => document.getElementById("s-status").textContent === "stopped");
  assert.equal(await page.textContent("#s-error"), "");
  assert.equal(await page.isEnabled("#s-run"), true);
  assert.equal(await page.isEnabled("#s-stop"), false);
  await page.fill("#s-n", "4");
  await page.fill("#s-steps", "3");
  await page.click("#s-run");
  await page.waitForFunction(() => /^(done|failed)/.test(document.getElementById("s-status").textContent));
  assert.match(await page.textContent("#s-status"), /^done: contrastive /, "a fresh worker took over");
  assert.deepEqual(problems, []);
  await page.close();
});
