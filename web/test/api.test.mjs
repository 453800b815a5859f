// The JavaScript API on the fixtures (node's test runner, the `--target nodejs` build in
// web/pkg-node/, made by scripts/build-web). Every expected value comes from an independent
// reader: h5py, scipy and anndata through oracle.py (H5SPARSE_PYTHON, default .venv/bin/python),
// and the CLI's error text (H5SPARSE_BIN, default target/debug/h5sparse).
//
//   node --test web/test/api.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { fileReader } from "./node-reader.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(import.meta.url);
const { H5File } = require(path.join(root, "web/pkg-node/h5sparse_web.js"));
const python = process.env.H5SPARSE_PYTHON || path.join(root, ".venv/bin/python");
const cli = process.env.H5SPARSE_BIN || path.join(root, "target/debug/h5sparse");

const fixtureDir = path.join(root, "fixtures");
const fixtures = fs
  .readdirSync(fixtureDir)
  .filter((n) => n.endsWith(".h5") || n.endsWith(".h5ad"))
  .sort()
  .map((n) => path.join(fixtureDir, n));

const oracle = (() => {
  const r = spawnSync(python, [path.join(root, "web/test/oracle.py"), ...fixtures], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`oracle.py failed: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout);
})();

/** A value as the oracle writes it: BigInts as numbers, NaN and infinities as strings. */
const num = (v) => {
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  return v;
};
const plain = (arr) => Array.from(arr, num);

/** A CSR result as a dense array of rows. */
function dense(m) {
  const [rows, cols] = m.shape;
  const out = Array.from({ length: rows }, () => new Array(cols).fill(0));
  for (let r = 0; r < rows; r++) {
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) out[r][m.indices[k]] += num(m.data[k]);
  }
  return out;
}

/** An oracle selection as the API takes it. */
function selection(sel) {
  if (sel === null || Array.isArray(sel)) return sel;
  const [a, b, c] = sel.slice.map((x) => (x === null ? "" : String(x)));
  return `${a}:${b}:${c}`;
}

test("the tree, shapes, dtypes, attributes and values match h5py on every fixture", () => {
  let datasets = 0;
  const unsupported = [];
  for (const file of fixtures) {
    const want = oracle[file];
    const f = H5File.open(fileReader(file), {});
    const got = f.walk().filter((e) => (e.kind === "group" || e.kind === "dataset") && !e.sameAs);
    assert.deepEqual(
      got.map((e) => e.path).sort(),
      want.tree.map((e) => e.path).sort(),
      `${file}: object paths`,
    );
    const byPath = new Map(got.map((e) => [e.path, e]));
    for (const w of want.tree) {
      const e = byPath.get(w.path);
      assert.equal(e.kind, w.kind, `${file}${w.path}: kind`);
      const attrs = f.attributes(w.path).map((a) => a.name).sort();
      assert.deepEqual(attrs, w.attrs, `${file}${w.path}: attribute names`);
      if (w.kind !== "dataset") {
        // A group's members, as h5py's keys().
        const members = want.tree.filter((x) => x.path.startsWith(`${w.path}/`) && !x.path.slice(w.path.length + 1).includes("/"));
        const listed = f.list(w.path).filter((m) => m.kind === "group" || m.kind === "dataset").map((m) => m.path);
        assert.deepEqual(listed.filter((p) => members.some((m) => m.path === p)).sort(), members.map((m) => m.path).sort(), `${file}${w.path}: members`);
        continue;
      }
      assert.deepEqual(e.shape, w.shape, `${file}${w.path}: shape`);
      const info = f.info(w.path);
      assert.deepEqual([info.layout, info.chunks, info.filters.map((x) => x.id)], [w.layout, w.chunks, w.filters], `${file}${w.path}: storage`);
      if (w.dtype !== null && w.dtype !== "|b1") assert.equal(e.dtype, w.dtype, `${file}${w.path}: dtype`);
      if (w.values === undefined) continue;
      let values;
      try {
        values = plain(f.read(w.path));
      } catch (e) {
        // A filter h5sparse does not implement (scaleoffset, szip): h5py has values, we
        // have the reason.
        assert.match(e.message, /^unsupported: .*filter/, `${file}${w.path}`);
        unsupported.push(`${file}${w.path}`);
        continue;
      }
      assert.deepEqual(values, w.values, `${file}${w.path}: values`);
      datasets += 1;
      if (w.shape.length === 2 && w.shape[0] > 1 && w.shape[1] > 1) {
        // A hyperslab: rows 1.., columns 1..
        const [r, c] = w.shape;
        const slab = plain(f.read(w.path, [1, 1], [r - 1, c - 1]));
        const expect = [];
        for (let i = 1; i < r; i++) for (let j = 1; j < c; j++) expect.push(w.values[i * c + j]);
        assert.deepEqual(slab, expect, `${file}${w.path}: slab [1:, 1:]`);
      }
    }
  }
  assert.ok(datasets > 50, `compared ${datasets} datasets' values`);
  assert.ok(unsupported.length <= 3, `unsupported filters: ${unsupported.join(", ")}`);
});

test("sparse matrices in every convention: info and row/column selections match scipy", () => {
  let reads = 0;
  for (const file of fixtures) {
    const want = oracle[file].sparse;
    const f = H5File.open(fileReader(file), {});
    const tree = new Map(f.walk().map((e) => [e.path, e]));
    for (const [group, w] of Object.entries(want)) {
      assert.ok(tree.get(group).sparse, `${file}${group}: the tree marks it sparse`);
      const x = f.sparse(group);
      const info = x.info();
      assert.deepEqual(
        [info.format, info.shape, info.nnz, info.convention],
        [w.format, w.shape, w.nnz, w.convention],
        `${file}${group}: info`,
      );
      for (const r of w.reads) {
        const m = x.read(selection(r.rows), selection(r.cols));
        assert.ok(m.indices instanceof Uint32Array && m.indptr instanceof Uint32Array);
        assert.deepEqual(dense(m), r.dense, `${file}${group}[${JSON.stringify(r.rows)}, ${JSON.stringify(r.cols)}]`);
        reads += 1;
      }
    }
  }
  assert.ok(reads > 30, `compared ${reads} sparse reads`);
});

test("density counts equal the stored entries per block", () => {
  for (const [file, group] of [["seed.h5", "/X"], ["tenx_v3.h5", "/matrix"], ["anndata.h5ad", "/X"]]) {
    const full = path.join(fixtureDir, file);
    const w = oracle[full].sparse[group];
    const [rows, cols] = w.shape;
    const f = H5File.open(fileReader(full), {});
    const [width, height] = [7, 5];
    const plot = f.density(group, width, height);
    let steps = 0;
    while (!plot.done) {
      plot.step(17);
      steps += 1;
    }
    assert.equal(plot.progress, 1);
    assert.ok(steps >= Math.ceil(w.nnz / 17));
    const expect = new Array(width * height).fill(0);
    // Stored entries, from scipy's dense matrix: nonzero positions (the fixtures store no zeros).
    const d = w.reads[0].dense;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++)
        if (d[r][c] !== 0) expect[Math.floor((r * height) / rows) * width + Math.floor((c * width) / cols)] += 1;
    assert.deepEqual(Array.from(plot.counts()), expect, `${file}${group}: counts`);
  }
});

test("AnnData: summary, names and obs/var columns match anndata", () => {
  let files = 0;
  for (const file of fixtures) {
    const want = oracle[file].anndata;
    if (!want) continue;
    const a = H5File.open(fileReader(file), {}).anndata();
    assert.equal(a.summary(), want.repr, `${file}: summary`);
    assert.deepEqual([a.nObs, a.nVars], [want.n_obs, want.n_vars]);
    assert.deepEqual(a.obsNames(), want.obs_names, `${file}: obs names`);
    assert.deepEqual(a.varNames(), want.var_names, `${file}: var names`);
    for (const [key, columns, column] of [
      ["obs", a.obsColumns(), (n) => a.obsColumn(n)],
      ["var", a.varColumns(), (n) => a.varColumn(n)],
    ]) {
      assert.deepEqual(columns.map((c) => c.name).sort(), Object.keys(want[key]).sort(), `${file}: ${key} columns`);
      for (const [name, w] of Object.entries(want[key])) {
        const got = column(name);
        if (w.kind === "categorical") {
          assert.equal(got.kind, "categorical", `${file}: ${key}.${name}`);
          assert.deepEqual(plain(got.codes), w.codes, `${file}: ${key}.${name} codes`);
          assert.deepEqual(plain(got.categories), w.categories, `${file}: ${key}.${name} categories`);
          assert.equal(got.ordered, w.ordered);
        } else {
          // Missing values (masked, NaN) are null in the oracle.
          const values = Array.from(got.values, (v, i) =>
            got.kind === "nullable" && got.mask[i] ? null : Number.isNaN(v) ? null : num(v),
          );
          assert.deepEqual(values, w.values, `${file}: ${key}.${name}`);
        }
      }
    }
    // Pages of the tables (rows start..stop read alone) equal the same rows of anndata's.
    for (const [key, n, names, column] of [
      ["obs", want.n_obs, (s, e) => a.obsNames(s, e), (c, s, e) => a.obsColumn(c, s, e)],
      ["var", want.n_vars, (s, e) => a.varNames(s, e), (c, s, e) => a.varColumn(c, s, e)],
    ]) {
      for (const [s, e] of [[0, Math.min(n, 3)], [Math.floor(n / 3), n], [n, n]]) {
        assert.deepEqual(names(s, e), want[`${key}_names`].slice(s, e), `${file}: ${key} names ${s}:${e}`);
        for (const [name, w] of Object.entries(want[key])) {
          const got = column(name, s, e);
          if (w.kind === "categorical") {
            assert.deepEqual(plain(got.codes), w.codes.slice(s, e), `${file}: ${key}.${name} codes ${s}:${e}`);
            assert.deepEqual(plain(got.categories), w.categories, `${file}: ${key}.${name} categories ${s}:${e}`);
          } else {
            const values = Array.from(got.values, (v, i) =>
              got.kind === "nullable" && got.mask[i] ? null : Number.isNaN(v) ? null : num(v),
            );
            assert.deepEqual(values, w.values.slice(s, e), `${file}: ${key}.${name} ${s}:${e}`);
          }
        }
      }
      assert.throws(() => names(0, n + 1), /rows 0\.\.\d+ are not within its \d+ rows/);
      assert.throws(() => names(1.5), /expected whole numbers/);
    }
    files += 1;
  }
  assert.ok(files >= 4, `compared ${files} .h5ad files`);
});

test("a file is read range by range: opening reads metadata only; every way of opening agrees", () => {
  // An 8 MB matrix made by h5py (chunked, 1 M stored values), and what h5py reads of rows 7:10.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "h5sparse-web-lazy-"));
  try {
    const file = path.join(dir, "big.h5");
    const script = `
import sys, json, h5py, numpy as np
rng = np.random.default_rng(7)
rows, cols, per = 10000, 5000, 100
indptr = np.arange(rows + 1, dtype=np.int64) * per
step = cols // per  # one index in each run of step columns: sorted, no repeats
indices = (np.arange(per) * step + rng.integers(0, step, size=(rows, per))).astype(np.int32).ravel()
data = rng.random(rows * per, dtype=np.float32)
with h5py.File(sys.argv[1], "w") as f:
    g = f.create_group("X")
    g.attrs["h5sparse_format"] = "csr"
    g.attrs["h5sparse_shape"] = (rows, cols)
    for name, a in (("data", data), ("indices", indices), ("indptr", indptr)):
        g.create_dataset(name, data=a, chunks=(min(len(a), 65536),))
print(json.dumps({"indices": indices[700:1000].tolist(), "data": data[700:1000].tolist()}))
`;
    const r = spawnSync(python, ["-c", script, file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const want = JSON.parse(r.stdout);
    const size = fs.statSync(file).size;
    const direct = fileReader(file);
    const f = H5File.open(direct, { blockSize: 0, readAhead: 0 }); // the reader sees h5sparse's reads
    assert.equal(f.length, size);
    const opened = direct.reads.bytes;
    assert.ok(opened <= 2 * 65536, `opening read ${opened} of ${size} bytes`);
    const rows = f.sparse("/X").read("7:10", null);
    assert.deepEqual(Array.from(rows.indices), want.indices);
    assert.deepEqual(Array.from(rows.data), want.data);
    assert.ok(direct.reads.bytes < size / 10, `reading 3 rows read ${direct.reads.bytes} of ${size} bytes in all`);
    // The defaults: opening fetches a few 64 KiB blocks; the density plot streams indices
    // (16 chunks of 256 KiB) through growing read-ahead windows, in a few reads.
    const streamed = fileReader(file);
    const s = H5File.open(streamed, {});
    assert.ok(streamed.reads.bytes <= 4 * 65536, `opening read ${streamed.reads.bytes} bytes`);
    const [reads0, bytes0] = [streamed.reads.count, streamed.reads.bytes];
    const plot = s.density("/X", 64, 64);
    while (!plot.done) plot.step(1 << 20);
    assert.equal(plot.counts().reduce((a, b) => a + b, 0), 1000000);
    const [reads, bytes] = [streamed.reads.count - reads0, streamed.reads.bytes - bytes0];
    const needed = 4 * 1000000 + 8 * 10001; // indices and indptr
    assert.ok(reads <= 12, `the density plot took ${reads} reads`);
    assert.ok(bytes >= needed && bytes < 1.25 * needed, `the density plot read ${bytes} bytes for ${needed}`);
    // With the read cache (the default) and from bytes in memory: the same results.
    const cached = H5File.open(fileReader(file), {});
    const fromBytes = H5File.fromBytes(fs.readFileSync(file), {});
    for (const g of [cached, fromBytes]) {
      assert.deepEqual(g.walk(), f.walk());
      assert.deepEqual(dense(g.sparse("/X").read("7:10", "0:50")), dense(f.sparse("/X").read("7:10", "0:50")));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The error text the CLI prints for `info FILE`. */
function cliError(file) {
  const r = spawnSync(cli, ["info", file], { encoding: "utf8" });
  assert.notEqual(r.status, 0, `${cli} info ${file} should fail`);
  return r.stderr.trim();
}

test("errors reach JS as Error exceptions with h5sparse's text, as the CLI prints it", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "h5sparse-web-"));
  try {
    const seed = fs.readFileSync(path.join(fixtureDir, "seed.h5"));
    const cases = {
      "not-hdf5.h5": Buffer.from("this is not an HDF5 file at all, just text\n".repeat(20)),
      "truncated.h5": seed.subarray(0, 200),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, bytes);
      const err = assert.throws(() => H5File.open(fileReader(file), {}).walk());
      let e;
      try {
        H5File.open(fileReader(file), {}).walk();
      } catch (x) {
        e = x;
      }
      assert.ok(e instanceof Error && !(e instanceof WebAssembly.RuntimeError), `${name}: ${e}`);
      assert.ok(e.message.length > 10);
      const line = cliError(file);
      assert.ok(line.includes(e.message), `${name}: CLI says\n  ${line}\nJS says\n  ${e.message}`);
      void err;
    }
    // API misuse is an Error too, with the reason.
    const f = H5File.open(fileReader(path.join(fixtureDir, "seed.h5")), {});
    assert.throws(() => f.sparse("/Y"), (e) => e instanceof Error && /Y/.test(e.message));
    assert.throws(() => f.sparse("/X").read("0:2:0", null), /step|zero|0/);
    assert.throws(() => f.read("/nope"), /nope/);
    assert.throws(() => H5File.open({ length: 10 }, {}), /read/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Everything the viewer does with a file; errors are fine, traps and hangs are not. */
function exercise(f) {
  for (const e of f.walk()) {
    try {
      f.attributes(e.path);
      f.info(e.path);
      if (e.kind === "dataset") f.read(e.path);
      if (e.sparse) {
        f.sparse(e.path).read("0:5", null);
        const plot = f.density(e.path, 16, 16);
        while (!plot.done) plot.step(1 << 16);
      }
    } catch (err) {
      if (!(err instanceof Error) || err instanceof WebAssembly.RuntimeError) throw err;
    }
  }
  try {
    const a = f.anndata();
    a.summary();
    for (const c of a.obsColumns()) a.obsColumn(c.name);
  } catch (err) {
    if (!(err instanceof Error) || err instanceof WebAssembly.RuntimeError) throw err;
  }
}

test("hostile files (truncated, bit-flipped) give errors, never a trap or a hang", () => {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  let cases = 0;
  let errors = 0;
  for (const name of ["seed.h5", "anndata.h5ad", "tenx_v3.h5"]) {
    const bytes = fs.readFileSync(path.join(fixtureDir, name));
    const mutants = [];
    for (let k = 1; k < 32; k++) mutants.push(bytes.subarray(0, Math.floor((bytes.length * k) / 32)));
    for (let k = 0; k < 120; k++) {
      const m = Buffer.from(bytes);
      m[next() % m.length] ^= 1 << next() % 8;
      mutants.push(m);
    }
    for (const m of mutants) {
      const t0 = Date.now();
      try {
        exercise(H5File.fromBytes(m, { strict: true }));
      } catch (err) {
        if (!(err instanceof Error) || err instanceof WebAssembly.RuntimeError) throw err;
        errors += 1;
      }
      assert.ok(Date.now() - t0 < 5000, `${name}: a mutant took ${Date.now() - t0} ms`);
      cases += 1;
    }
  }
  assert.ok(errors > 10, `${errors} of ${cases} mutants failed to open`);
});
