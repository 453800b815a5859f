// The viewer's worker: owns the wasm module and the open file, answers the page's requests
// ({ id, op, args } -> { id, result } or { id, error }) and streams density-plot progress.
import init, { H5File } from "./pkg/h5sparse_web.js";
import { blobReader, urlReader } from "./readers.js";

const ready = init();
let file = null;
let source = null;

/** Structured-clone-safe copies (wasm-bindgen classes are not cloneable). */
const ops = {
  async open({ blob, url, name, strict }) {
    file?.free();
    file = null;
    const t0 = performance.now();
    source = blob ? blobReader(blob, name) : urlReader(url);
    file = H5File.open(source, { strict: !!strict });
    const tree = file.walk();
    let anndata = null;
    try {
      const a = file.anndata();
      anndata = { summary: a.summary(), nObs: a.nObs, nVars: a.nVars, xSparse: a.xSparsePath() };
      a.free();
    } catch {
      // not an .h5ad: no AnnData view
    }
    return { name: source.name, length: file.length, tree, anndata, ms: performance.now() - t0 };
  },
  info: ({ path }) => file.info(path),
  attributes: ({ path }) => file.attributes(path),
  read: ({ path, start, count }) => file.read(path, start, count),
  sparseRead({ path, rows, cols }) {
    const x = file.sparse(path);
    try {
      return { info: x.info(), ...x.read(rows, cols) };
    } finally {
      x.free();
    }
  },
  /** Rows start..start + rows of obs or var: only those rows are read. */
  frame({ axis, start = 0, rows }) {
    const a = file.anndata();
    try {
      const total = axis === "obs" ? a.nObs : a.nVars;
      start = Math.max(0, Math.min(start, total));
      const stop = Math.min(total, start + rows);
      const names = axis === "obs" ? a.obsNames(start, stop) : a.varNames(start, stop);
      const columns = axis === "obs" ? a.obsColumns() : a.varColumns();
      const values = columns.map((c) => {
        try {
          const d = axis === "obs" ? a.obsColumn(c.name, start, stop) : a.varColumn(c.name, start, stop);
          if (d.kind === "categorical") {
            return d.codes.map((k) => (k < 0 ? "NaN" : String(d.categories[k])));
          }
          return Array.from(d.values, (v, i) => (d.mask && d.mask[i] ? "<NA>" : String(v)));
        } catch (e) {
          return names.map(() => `error: ${e.message}`);
        }
      });
      return { names, columns, values, start, total };
    } finally {
      a.free();
    }
  },
  async density({ path, width, height, id }) {
    const plot = file.density(path, width, height);
    try {
      const t0 = performance.now();
      while (!plot.done) {
        postMessage({ id, progress: plot.step(1 << 20) });
        // Let requests that arrived meanwhile (another object's view) run between steps.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      return { counts: plot.counts(), width, height, ms: performance.now() - t0 };
    } finally {
      plot.free();
    }
  },
};

onmessage = async ({ data: { id, op, args } }) => {
  try {
    await ready;
    const result = await ops[op]({ ...args, id });
    postMessage({ id, result });
  } catch (e) {
    postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
};
