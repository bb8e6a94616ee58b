// chromium.mjs: launches the machine's Chromium (/usr/bin/chromium, from
// Debian) headless through playwright-core, which scripts/bench-browser.sh
// installs into .cache/browser (never the `playwright` package, which would
// download a browser of its own). The flags are those of
// shared/design/ENV.md; every launch gets a fresh profile folder.
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const cacheDir = process.env.CDP_BROWSER_CACHE || path.join(root, ".cache/browser");

// requireCached loads a package installed in cacheDir/node_modules.
export const requireCached = createRequire(path.join(cacheDir, "package.json"));

export const FLAGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

// launch starts Chromium and returns { browser, version, close }.
export async function launch(options = {}) {
  const { chromium } = requireCached("playwright-core");
  const profile = mkdtempSync(path.join(os.tmpdir(), "cdp-chromium-"));
  const executablePath = process.env.CDP_CHROMIUM || "/usr/bin/chromium";
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [...FLAGS, ...(options.args || [])],
  });
  let version = "unknown";
  try {
    version = execFileSync(executablePath, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch { /* reported as unknown */ }
  return {
    context,
    version,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
