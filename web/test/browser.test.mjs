// The viewer page in headless Chromium (Debian's; CHROMIUM overrides the binary): serves
// web/www and fixtures/ on 127.0.0.1, opens fixtures through ?url=...&path=... and the file
// picker, asserts the DOM against h5py/scipy/anndata (oracle.py) and the CLI's error text,
// and saves a screenshot of each view under target/web-screenshots/.
//
//   node --experimental-websocket --test web/test/browser.test.mjs   (node 20)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { serve } from "./serve.mjs";
import { launch } from "./cdp.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const python = process.env.H5SPARSE_PYTHON || path.join(root, ".venv/bin/python");
const cli = process.env.H5SPARSE_BIN || path.join(root, "target/debug/h5sparse");
const chromium = process.env.CHROMIUM || "chromium";
const shots = path.join(root, "target/web-screenshots");
const fixtures = fs
  .readdirSync(path.join(root, "fixtures"))
  .filter((n) => n.endsWith(".h5") || n.endsWith(".h5ad"))
  .sort();

const oracle = (() => {
  const r = spawnSync(python, [path.join(root, "web/test/oracle.py"), ...fixtures.map((f) => path.join(root, "fixtures", f))], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`oracle.py failed: ${r.stderr || r.error}`);
  const byName = {};
  for (const [k, v] of Object.entries(JSON.parse(r.stdout))) byName[path.basename(k)] = v;
  return byName;
})();

let server;
let browser;
let base;
const hostileDir = fs.mkdtempSync(path.join(os.tmpdir(), "h5sparse-web-hostile-"));

before(async () => {
  // A hostile file: the seed cut in the middle of its metadata.
  fs.writeFileSync(path.join(hostileDir, "truncated.h5"), fs.readFileSync(path.join(root, "fixtures/seed.h5")).subarray(0, 200));
  server = await serve({ "/fixtures/": path.join(root, "fixtures"), "/hostile/": hostileDir, "/": path.join(root, "web/www") });
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await launch(chromium);
});

after(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r()));
  fs.rmSync(hostileDir, { recursive: true, force: true });
});

/** Opens the page on `query` and waits until the view is drawn (or failed). */
async function open(query) {
  await browser.goto(`${base}index.html?${query}`);
  return browser.waitFor("['ready', 'error'].includes(document.body.dataset.state) && document.body.dataset.state");
}

const treePaths = () => browser.eval("[...document.querySelectorAll('#tree li')].map((li) => li.dataset.path)");

/** The window table as a dense array of numbers (· is 0). */
const windowCells = () =>
  browser.eval(`[...document.querySelectorAll('#sparse-window tr')].slice(1).map((tr) =>
     [...tr.querySelectorAll('td')].map((td) => td.textContent === '·' ? 0 : Number(td.textContent)))`);

/** Values as the page prints them: integers plainly, others with 6 significant digits. */
const printed = (v) => (Number.isInteger(v) ? v : Number(v.toPrecision(6)));

function expectTree(name, got) {
  const want = ["/", ...oracle[name].tree.map((e) => e.path)].sort();
  assert.deepEqual([...got].sort(), want, `${name}: tree`);
}

async function expectWindow(name, group, rows, cols) {
  const full = oracle[name].sparse[group].reads[0].dense;
  const want = full.slice(0, rows).map((r) => r.slice(0, cols).map(printed));
  assert.deepEqual(await windowCells(), want, `${name}${group}: window [0:${rows}, 0:${cols}]`);
}

async function expectDensity(name, group) {
  await browser.waitFor("document.querySelector('#density')?.dataset.done");
  assert.equal(await browser.eval("document.querySelector('#density').dataset.done"), "1");
  // Every stored value is counted once.
  const total = await browser.eval("(() => { const c = document.querySelector('#density'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 255) n++; return n; })()");
  const dense = oracle[name].sparse[group].reads[0].dense;
  assert.ok(total > 0 && total <= dense.flat().filter((v) => v !== 0).length, `${name}${group}: ${total} painted blocks`);
}

test("the seed: tree, sparse window and density of /X", async () => {
  assert.equal(await open("url=/fixtures/seed.h5&path=/X"), "ready");
  expectTree("seed.h5", await treePaths());
  assert.equal(await browser.eval("document.querySelector('#tree li[data-path=\"/X\"] .badge').textContent"), "csr 6×3");
  await expectWindow("seed.h5", "/X", 6, 3);
  await expectDensity("seed.h5", "/X");
  await browser.screenshot(path.join(shots, "seed-X.png"));
  // A dataset's view: storage and its first values.
  await browser.eval("document.querySelector('#tree li[data-path=\"/Y\"]').click()");
  await browser.waitFor("document.querySelector('#values') && document.body.dataset.state === 'ready'");
  const values = await browser.eval("[...document.querySelectorAll('#values td')].map((td) => Number(td.textContent))");
  assert.deepEqual(values, oracle["seed.h5"].tree.find((e) => e.path === "/Y").values);
  await browser.screenshot(path.join(shots, "seed-Y.png"));
});

test("an .h5ad: the AnnData summary and obs/var tables", async () => {
  assert.equal(await open("url=/fixtures/anndata.h5ad"), "ready");
  const want = oracle["anndata.h5ad"].anndata;
  expectTree("anndata.h5ad", await treePaths());
  assert.equal(await browser.eval("document.querySelector('#anndata-summary').textContent"), want.repr);
  const obsNames = await browser.eval("[...document.querySelectorAll('#obs-table tr')].slice(1).map((tr) => tr.firstChild.textContent)");
  assert.deepEqual(obsNames, want.obs_names.slice(0, 20));
  const cellType = await browser.eval("[...document.querySelectorAll('#obs-table tr')].slice(1).map((tr) => tr.children[1].textContent)");
  const ct = want.obs.cell_type;
  assert.deepEqual(cellType, ct.codes.slice(0, 20).map((k) => ct.categories[k]));
  await browser.screenshot(path.join(shots, "anndata.png"));
  // X of the .h5ad, chosen in the tree.
  await browser.eval("document.querySelector('#tree li[data-path=\"/X\"]').click()");
  await browser.waitFor("document.querySelector('#sparse-window') && document.body.dataset.state === 'ready'");
  await expectWindow("anndata.h5ad", "/X", 20, 12);
  await expectDensity("anndata.h5ad", "/X");
  await browser.screenshot(path.join(shots, "anndata-X.png"));
});

test("an .h5ad's obs table pages through its rows (next/prev)", async () => {
  assert.equal(await open("url=/fixtures/anndata_full.h5ad"), "ready");
  const want = oracle["anndata_full.h5ad"].anndata;
  assert.ok(want.n_obs > 20, `${want.n_obs} obs: more than one page`);
  const page = () => browser.eval("[...document.querySelectorAll('#obs-table tr')].slice(1).map((tr) => tr.firstChild.textContent)");
  const disabled = () => browser.eval("[document.querySelector('#obs-prev').disabled, document.querySelector('#obs-next').disabled]");
  assert.deepEqual(await page(), want.obs_names.slice(0, 20));
  assert.deepEqual(await disabled(), [true, false]);
  await browser.eval("document.querySelector('#obs-next').click()");
  await browser.waitFor("document.querySelector('#obs-table').dataset.start === '20' && document.body.dataset.state === 'ready'");
  assert.deepEqual(await page(), want.obs_names.slice(20, 40));
  assert.deepEqual(await disabled(), [false, want.n_obs <= 40]);
  // The columns of the page are the same rows of anndata's.
  const col = Object.keys(want.obs)[0];
  const w = want.obs[col];
  const cells = await browser.eval("[...document.querySelectorAll('#obs-table tr')].slice(1).map((tr) => tr.children[1].textContent)");
  assert.equal(w.kind, "categorical", `obs.${col}`);
  assert.deepEqual(cells, w.codes.slice(20, 40).map((k) => (k < 0 ? "NaN" : String(w.categories[k]))));
  await browser.screenshot(path.join(shots, "anndata-obs-page2.png"));
  await browser.eval("document.querySelector('#obs-prev').click()");
  await browser.waitFor("document.querySelector('#obs-table').dataset.start === '0' && document.body.dataset.state === 'ready'");
  assert.deepEqual(await page(), want.obs_names.slice(0, 20));
});

test("the URL reader's readRanges: nearby ranges merged, or all in one multi-range request", async () => {
  await browser.goto(`${base}index.html`);
  const name = "anndata_full.h5ad";
  const bytes = fs.readFileSync(path.join(root, "fixtures", name));
  // Two spans: 0..105 (two ranges 90 bytes apart), 90000..131100 (two ranges, 41 KB apart);
  // one empty range; out of order.
  const ranges = [[131000, 100], [0, 10], [50000, 0], [90000, 20], [100, 5]];
  const run = (opts) =>
    browser.eval(`new Promise((resolve) => {
      const src = "import { urlReader } from '${base}readers.js';" +
        "onmessage = ({ data }) => { try { const r = urlReader(data.url, data.opts); const before = r.stats.requests;" +
        " const parts = r.readRanges(data.ranges); postMessage({ parts: parts.map((p) => Array.from(p)), requests: r.stats.requests - before }); }" +
        " catch (e) { postMessage({ error: e.message }); } };";
      const w = new Worker(URL.createObjectURL(new Blob([src], { type: "text/javascript" })), { type: "module" });
      w.onmessage = ({ data }) => { w.terminate(); resolve(data); };
      w.postMessage({ url: "${base}fixtures/${name}", opts: ${JSON.stringify(opts)}, ranges: ${JSON.stringify(ranges)} });
    })`);
  const want = ranges.map(([o, n]) => Array.from(bytes.subarray(o, o + n)));
  for (const [opts, requests] of [[{}, 2], [{ multiRange: true }, 1]]) {
    const got = await run(opts);
    assert.equal(got.error, undefined, `${JSON.stringify(opts)}: ${got.error}`);
    assert.deepEqual(got.parts, want, JSON.stringify(opts));
    assert.equal(got.requests, requests, `${JSON.stringify(opts)}: requests`);
  }
});

test("a 10x file: the csc matrix under /matrix", async () => {
  assert.equal(await open("url=/fixtures/tenx_v3.h5&path=/matrix"), "ready");
  expectTree("tenx_v3.h5", await treePaths());
  assert.match(await browser.eval("document.querySelector('#detail').textContent"), /convention10x/);
  await expectWindow("tenx_v3.h5", "/matrix", 20, 12);
  await expectDensity("tenx_v3.h5", "/matrix");
  await browser.screenshot(path.join(shots, "tenx-matrix.png"));
});

test("a local file through the file picker (a Blob read in the worker with FileReaderSync)", async () => {
  await browser.goto(`${base}index.html`);
  await browser.waitFor("document.body.dataset.state === 'empty'");
  await browser.setFiles("#file-input", [path.join(root, "fixtures/anndata_gzip.h5ad")]);
  await browser.waitFor("document.body.dataset.state === 'ready' && document.querySelector('#anndata-summary')");
  expectTree("anndata_gzip.h5ad", await treePaths());
  assert.equal(await browser.eval("document.querySelector('#anndata-summary').textContent"), oracle["anndata_gzip.h5ad"].anndata.repr);
  await browser.screenshot(path.join(shots, "file-picker.png"));
});

test("every fixture opens in the page, its tree as h5py lists it", async () => {
  for (const name of fixtures) {
    const state = await open(`url=/fixtures/${name}`);
    assert.equal(state, "ready", `${name}: ${await browser.eval("document.querySelector('#error').textContent")}`);
    const paths = (await browser.eval("[...document.querySelectorAll('#tree li[data-kind=group], #tree li[data-kind=dataset]')].filter((li) => !/same as/.test(li.textContent)).map((li) => li.dataset.path)"));
    expectTree(name, paths);
  }
});

test("a hostile file shows h5sparse's error, as the CLI prints it", async () => {
  assert.equal(await open("url=/hostile/truncated.h5"), "error");
  const shown = await browser.eval("document.querySelector('#error').textContent");
  const r = spawnSync(cli, ["info", path.join(hostileDir, "truncated.h5")], { encoding: "utf8" });
  assert.notEqual(r.status, 0);
  const message = r.stderr.trim().replace(/^h5sparse: error: /, "");
  assert.ok(message.length > 10 && shown.includes(message), `page: ${shown}\nCLI: ${r.stderr}`);
  await browser.screenshot(path.join(shots, "hostile.png"));
});

test("a server that never answers: the page gives up after its timeout and says so", async () => {
  assert.equal(await open("url=/stall/never.h5&timeout=1500"), "error");
  assert.match(await browser.eval("document.querySelector('#error').textContent"), /no answer after 1.5 s/);
  // The page still works: the next file opens.
  assert.equal(await open("url=/fixtures/seed.h5&path=/X"), "ready");
});
