// The browser package beside h5wasm (libhdf5 compiled with emscripten), on the bench's
// medium file (bench/gen-data; 50,000 × 20,000 CSR, float32, ~50 M stored values):
// module size, time to open and list the tree, to read 100 rows of X, and to compute the
// 512 × 512 density plot of X from indptr and indices. Both run in node, in one process,
// h5sparse through its range reader (the Blob path of the page), h5wasm the way a page
// loads a local file (the whole file copied into its in-memory file system). The counts of
// the two plots must agree. FILE is any file with a CSR matrix at /X (default the medium
// .h5ad); bench/RESULTS.md has the 1.2 GB matrix of ones it was also run on.
//
//   scripts/build-web && (cd bench/web && npm ci) && node bench/web/bench.mjs [FILE]
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

import { fileReader } from "../../web/test/node-reader.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const cache = process.env.H5SPARSE_BENCH_CACHE || path.join(root, "bench/.cache");
const file = process.argv[2] || path.join(cache, "medium_anndata.h5ad");
const [W, H] = [512, 512];
const ms = (t0) => Number((performance.now() - t0).toFixed(0));
const sizes = (f) => ({ bytes: fs.statSync(f).size, gzipped: zlib.gzipSync(fs.readFileSync(f), { level: 9 }).length });
const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const out = { file: path.basename(file), fileBytes: fs.statSync(file).size };

// h5sparse
{
  const { H5File } = createRequire(import.meta.url)(path.join(root, "web/pkg-node/h5sparse_web.js"));
  const r = { module: sizes(path.join(root, "web/www/pkg/h5sparse_web_bg.wasm")), glue: sizes(path.join(root, "web/www/pkg/h5sparse_web.js")) };
  const reader = fileReader(file);
  let t0 = performance.now();
  const f = H5File.open(reader, {});
  const tree = f.walk();
  r.openAndTreeMs = ms(t0);
  r.objects = tree.length;
  r.bytesReadToOpen = reader.reads.bytes;
  r.readsToOpen = reader.reads.count;
  t0 = performance.now();
  try {
    const a = f.anndata();
    r.summaryMs = ms(t0);
    r.summaryFirstLine = a.summary().split("\n")[0];
  } catch (e) {
    r.summary = `not an AnnData file: ${e.message}`;
  }
  out.shape = Array.from(f.sparse("/X").shape);
  t0 = performance.now();
  const m = f.sparse("/X").read("0:100", null);
  r.rows100Ms = ms(t0);
  r.rows100Nnz = m.indptr[100];
  const before = reader.reads.bytes;
  const beforeCount = reader.reads.count;
  t0 = performance.now();
  const plot = f.density("/X", W, H);
  while (!plot.done) plot.step(1 << 20);
  r.densityMs = ms(t0);
  r.densityBytesRead = reader.reads.bytes - before;
  r.densityReads = reader.reads.count - beforeCount;
  r.rssMB = rss();
  out.h5sparse = r;
  out.h5sparseCounts = plot.counts();
}

// h5wasm
try {
  const h5wasm = (await import("h5wasm")).default;
  const dist = path.join(here, "node_modules/h5wasm/dist/esm");
  const r = { module: sizes(path.join(dist, "hdf5_util.js")), glue: sizes(path.join(dist, "hdf5_hl.js")), version: JSON.parse(fs.readFileSync(path.join(here, "node_modules/h5wasm/package.json"))).version };
  let t0 = performance.now();
  const { FS } = await h5wasm.ready;
  r.initMs = ms(t0);
  t0 = performance.now();
  FS.writeFile("/medium.h5", fs.readFileSync(file));
  const f = new h5wasm.File("/medium.h5", "r");
  let objects = 0;
  const walk = (g) => {
    for (const k of g.keys()) {
      objects += 1;
      const child = g.get(k);
      if (child instanceof h5wasm.Group) walk(child);
    }
  };
  walk(f);
  r.openAndTreeMs = ms(t0);
  r.objects = objects;
  t0 = performance.now();
  const indptr = f.get("X/indptr").value;
  const n = Number(indptr[100]);
  const data = f.get("X/data").slice([[0, n]]);
  const indices = f.get("X/indices").slice([[0, n]]);
  r.rows100Ms = ms(t0);
  r.rows100Nnz = data.length + 0 * indices.length;
  t0 = performance.now();
  const ip = f.get("X/indptr").value;
  const [rows, cols] = out.shape;
  const counts = new Uint32Array(W * H);
  const ds = f.get("X/indices");
  const nnz = Number(ip[ip.length - 1]);
  let row = 0;
  for (let start = 0; start < nnz; start += 1 << 20) {
    const block = ds.slice([[start, Math.min(nnz, start + (1 << 20))]]);
    for (let k = 0; k < block.length; k++) {
      const at = start + k;
      while (Number(ip[row + 1]) <= at) row++;
      const y = Math.floor((row * H) / rows);
      const x = Math.floor((Number(block[k]) * W) / cols);
      counts[y * W + x]++;
    }
  }
  r.densityMs = ms(t0);
  r.rssMB = rss();
  f.close();
  out.h5wasm = r;
  out.countsAgree = counts.length === out.h5sparseCounts.length && counts.every((c, i) => c === out.h5sparseCounts[i]);
} catch (e) {
  out.h5wasm = { error: String(e.message || e) };
}
delete out.h5sparseCounts;

// The viewer page in headless Chromium: the medium file from the file picker (a Blob read
// with FileReaderSync) and from a URL (range requests to a local server): time to the tree
// (the page's own "opened in" figure) and to the finished density plot of /X.
if (process.env.CHROMIUM !== "none") {
  const { serve } = await import("../../web/test/serve.mjs");
  const { launch } = await import("../../web/test/cdp.mjs");
  // H5SPARSE_WEB_WWW: another build's page (to compare its reads with this one's).
  const www = process.env.H5SPARSE_WEB_WWW || path.join(root, "web/www");
  const server = await serve({ "/data/": path.dirname(file), "/": www });
  const served = () => ({ ...server.stats["/data/"] });
  const since = (a) => { const b = served(); return { requests: b.requests - a.requests, bytes: b.bytes - a.bytes }; };
  const base = `http://127.0.0.1:${server.address().port}/`;
  const browser = await launch(process.env.CHROMIUM || "chromium");
  const page = {};
  try {
    for (const how of ["blob", "url"]) {
      const t0 = performance.now();
      const s0 = served();
      if (how === "blob") {
        await browser.goto(`${base}index.html`);
        await browser.waitFor("document.body.dataset.state === 'empty'");
        await browser.setFiles("#file-input", [file]);
      } else {
        await browser.goto(`${base}index.html?url=/data/${path.basename(file)}`);
      }
      await browser.waitFor("document.body.dataset.state === 'ready' && document.querySelectorAll('#tree li').length > 1", 120000);
      const opened = await browser.eval("Number(/opened in (\\d+) ms/.exec(document.querySelector('#status').textContent)[1])");
      const treeMs = ms(t0);
      const openReads = since(s0);
      const s1 = served();
      await browser.eval("document.querySelector('#tree li[data-path=\"/X\"]').click()");
      const t1 = performance.now();
      await browser.waitFor("document.querySelector('#density')?.dataset.done", 600000);
      if (how === "blob") {
        await browser.screenshot(path.join(root, `target/web-screenshots/bench-${path.basename(file)}.png`));
      }
      page[how] = {
        openMs: opened,
        navigationToTreeMs: treeMs,
        selectXToDensityMs: ms(t1),
        // By URL: the requests for the file and their bytes (the server's count).
        ...(how === "url" ? { openReads, selectXToDensityReads: since(s1) } : {}),
        density: await browser.eval("document.querySelector('#density-caption').textContent"),
      };
    }
  } finally {
    await browser.close();
    server.close();
  }
  out.page = page;
}
console.log(JSON.stringify(out, null, 1));
if (out.countsAgree === false) process.exit(1);
