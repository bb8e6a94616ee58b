// server.mjs: a small static file server for the browser benchmark and the
// page test. It listens on 127.0.0.1 only, on a free port, and maps URL
// prefixes to folders:
//
//   const srv = await serve({ "/": "www", "/bench/": "scripts/browser" });
//   srv.url  // "http://127.0.0.1:PORT"
//   await srv.close();
//
// Longest prefix wins; paths that climb out of their folder are refused.
// options.onError(status, url) hears of every request that failed (a page
// test counts them: workers' fetches are not all visible to the browser
// driver).
import http from "node:http";
import { createReadStream, statSync } from "node:fs";
import path from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

export async function serve(routes, options = {}) {
  const onError = options.onError || (() => {});
  const table = Object.entries(routes)
    .map(([prefix, dir]) => [prefix, path.resolve(dir)])
    .sort((a, b) => b[0].length - a[0].length);
  const server = http.createServer((req, res) => {
    const writeHead = res.writeHead.bind(res);
    res.writeHead = (status, ...rest) => {
      if (status >= 400) onError(status, req.url);
      return writeHead(status, ...rest);
    };
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, "http://localhost").pathname);
    } catch {
      res.writeHead(400).end("bad url");
      return;
    }
    const route = table.find(([prefix]) => pathname.startsWith(prefix));
    if (!route || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404).end("not found");
      return;
    }
    const [prefix, dir] = route;
    let file = path.join(dir, pathname.slice(prefix.length));
    if (file !== dir && !file.startsWith(dir + path.sep)) {
      res.writeHead(403).end("forbidden");
      return;
    }
    let st;
    try {
      st = statSync(file);
      if (st.isDirectory()) {
        file = path.join(file, "index.html");
        st = statSync(file);
      }
    } catch {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, {
      "Content-Type": TYPES[path.extname(file)] || "application/octet-stream",
      "Content-Length": st.size,
      "Cache-Control": "no-store",
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
