// The viewer page: the tree on the left (like `h5sparse ls -r`), the selected object on the
// right. All reading happens in worker.js; this file only talks to it and draws.
//
// Address parameters: ?url=<file URL>&path=</object> opens a file and selects an object on
// load; &strict=1 applies h5sparse's strict limits; &timeout=<ms> bounds each request
// (default 120 s: the worker is stopped and the page says so, it never hangs).

const $ = (sel) => document.querySelector(sel);
const params = new URLSearchParams(location.search);

let worker = null;
let nextId = 1;
const pending = new Map();
let tree = [];
let anndata = null;
let selected = null;

function startWorker() {
  worker?.terminate();
  for (const { reject } of pending.values()) reject(new Error("the file was closed"));
  pending.clear();
  worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.onmessage = ({ data }) => {
    const p = pending.get(data.id);
    if (!p) return;
    if ("progress" in data) return p.onProgress?.(data.progress);
    pending.delete(data.id);
    if ("error" in data) p.reject(new Error(data.error));
    else p.resolve(data.result);
  };
  worker.onerror = (e) => showError(`the worker failed: ${e.message}`);
}

/** How long a request may take before the page gives up on the worker (and stops it). */
const TIMEOUT_MS = Number(params.get("timeout") || 120000);

/** One request to the worker; the density plot (with its progress) has no time limit. */
function call(op, args, onProgress) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer =
      onProgress === undefined &&
      setTimeout(() => {
        pending.delete(id);
        worker.terminate();
        reject(new Error(`${op}: no answer after ${TIMEOUT_MS / 1000} s; reading stopped (reopen the file to go on)`));
      }, TIMEOUT_MS);
    const done = (f) => (v) => {
      clearTimeout(timer);
      f(v);
    };
    pending.set(id, { resolve: done(resolve), reject: done(reject), onProgress });
    worker.postMessage({ id, op, args });
  });
}

function setState(state, text) {
  document.body.dataset.state = state;
  if (text !== undefined) $("#status").textContent = text;
}

function showError(message) {
  const box = $("#error");
  box.textContent = message;
  box.hidden = false;
  setState("error", "Error");
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : String(c));
  return e;
}

const fmtShape = (s) => (s === null || s === undefined ? "null" : s.length === 0 ? "scalar" : `{${s.join(", ")}}`);
const fmtValue = (v) =>
  typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(6)) : typeof v === "object" && v !== null ? JSON.stringify(v, (_, x) => (typeof x === "bigint" ? String(x) : x)) : String(v);

async function openSource(args, label) {
  startWorker();
  $("#error").hidden = true;
  $("#tree").replaceChildren();
  $("#detail").replaceChildren();
  setState("loading", `Opening ${label}…`);
  try {
    const r = await call("open", { ...args, strict: params.get("strict") === "1" });
    tree = r.tree;
    anndata = r.anndata;
    renderTree();
    setState("ready", `${r.name}: ${r.length.toLocaleString()} bytes, ${tree.length} objects, opened in ${r.ms.toFixed(0)} ms`);
    document.title = `${r.name.split("/").pop()} — h5sparse viewer`;
    await select(params.get("path") && args.url ? params.get("path") : "/");
  } catch (e) {
    showError(`${label}: ${e.message}`);
  }
}

function renderTree() {
  const ul = el("ul");
  ul.append(treeItem({ path: "/", name: "/", kind: "group" }, 0));
  for (const e of tree) ul.append(treeItem(e, e.path.split("/").length - 1));
  $("#tree").replaceChildren(ul);
}

function treeItem(e, depth) {
  const li = el("li", { "data-path": e.path, "data-kind": e.kind, title: e.path });
  li.style.paddingLeft = `${0.5 + depth * 1.1}em`;
  li.append(e.name);
  let kind = { group: "Group", dataset: `Dataset ${fmtShape(e.shape)} ${e.dtype ?? ""}` }[e.kind] ?? e.kind;
  if (e.kind === "soft" || e.kind === "external") kind = `${e.kind === "soft" ? "Soft" : "External"} Link {${e.target}}`;
  if (e.sameAs) kind += `, same as ${e.sameAs}`;
  li.append(el("span", { class: "kind" }, kind));
  if (e.sparse) li.append(el("span", { class: "badge" }, `${e.sparse.format} ${e.sparse.shape.join("×")}`));
  if (e.error) {
    li.classList.add("error");
    li.append(el("span", { class: "kind" }, `error: ${e.error}`));
  }
  if (e.kind === "group" || e.kind === "dataset") li.onclick = () => select(e.path);
  return li;
}

async function select(path) {
  selected = path;
  for (const li of document.querySelectorAll("#tree li")) li.classList.toggle("selected", li.dataset.path === path);
  const detail = $("#detail");
  detail.replaceChildren(el("h2", {}, path));
  detail.dataset.path = path;
  setState("loading");
  try {
    const info = await call("info", { path });
    if (path === "/" && anndata) await renderAnnData(detail);
    if (info.kind === "dataset") await renderDataset(detail, info);
    let density = null;
    if (info.kind === "group" && info.sparse) density = await renderSparse(detail, path, info.sparse);
    await renderAttributes(detail, path);
    if (selected === path) setState("ready");
    density?.();
  } catch (e) {
    showError(`${path}: ${e.message}`);
  }
}

function props(pairs) {
  const dl = el("dl", { class: "props" });
  for (const [k, v] of pairs) dl.append(el("dt", {}, k), el("dd", {}, v));
  return dl;
}

async function renderAttributes(detail, path) {
  const attrs = await call("attributes", { path });
  if (attrs.length === 0) return;
  const table = el("table", { id: "attributes" }, el("tr", {}, el("th", {}, "attribute"), el("th", {}, "type"), el("th", {}, "value")));
  for (const a of attrs) {
    table.append(el("tr", {}, el("td", { class: "text" }, a.name), el("td", { class: "text" }, a.dtype), el("td", { class: "text" }, fmtValue(a.value))));
  }
  detail.append(el("h3", {}, "Attributes"), table);
}

async function renderDataset(detail, info) {
  const filters = info.filters.map((f) => `${f.name} (${f.id})${f.cdValues.length ? ` [${f.cdValues.join(", ")}]` : ""}`).join(", ");
  detail.append(
    el("h3", {}, "Dataset"),
    props([
      ["shape", fmtShape(info.shape)],
      ["maxshape", fmtShape(info.maxshape?.map((m) => m ?? "Inf"))],
      ["dtype", info.dtype],
      ["layout", info.layout],
      ["chunks", info.chunks ? fmtShape(info.chunks) : "—"],
      ["chunk index", info.chunkIndex ?? "—"],
      ["filters", filters || "none"],
    ]),
  );
  if (!info.shape) return;
  const rank = info.shape.length;
  const rowsShown = rank === 0 ? 1 : Math.min(info.shape[0], 100);
  const colsShown = rank >= 2 ? Math.min(info.shape[1], 20) : 1;
  const count = info.shape.map((n, i) => (i === 0 ? rowsShown : i === 1 ? colsShown : Math.min(n, 1)));
  const values = await call("read", { path: info.path, start: info.shape.map(() => 0), count });
  const per = rank >= 2 ? colsShown : 1;
  const table = el("table", { id: "values" });
  if (rank >= 2) table.append(el("tr", {}, el("th", {}, ""), ...Array.from({ length: colsShown }, (_, j) => el("th", {}, j))));
  for (let i = 0; i < rowsShown; i++) {
    const tr = el("tr", {}, el("th", {}, rank === 0 ? "" : i));
    for (let j = 0; j < per; j++) {
      const v = values[i * per + j];
      tr.append(el("td", { class: typeof v === "string" ? "text" : "" }, fmtValue(v)));
    }
    table.append(tr);
  }
  const shown = rank >= 2 ? `first ${rowsShown} × ${colsShown}` : `first ${rowsShown}`;
  detail.append(el("h3", {}, `Values (${shown}${rank > 2 ? ", index 0 beyond" : ""})`), table);
}

async function renderSparse(detail, path, s) {
  detail.append(
    el("h3", {}, "Sparse matrix"),
    props([
      ["shape", s.shape.join(" × ")],
      ["stored values (nnz)", Number(s.nnz).toLocaleString()],
      ["format", s.format],
      ["convention", s.convention],
      ["dtype", `${s.dtype} (indices ${s.indicesDtype}, indptr ${s.indptrDtype})`],
    ]),
  );
  // The window: a row/column selection in numpy's slice syntax.
  const rows = el("input", { name: "rows", value: "0:20" });
  const cols = el("input", { name: "cols", value: "0:12" });
  const form = el("form", { class: "window-form" }, "rows ", rows, " columns ", cols, " ", el("button", {}, "Read"));
  const holder = el("div");
  form.onsubmit = (ev) => {
    ev.preventDefault();
    readWindow(path, rows.value, cols.value, holder).catch((e) => showError(`${path}: ${e.message}`));
  };
  const progress = el("progress", { id: "density-progress", max: 1, value: 0 });
  const canvas = el("canvas", { id: "density" });
  const caption = el("div", { id: "density-caption" }, "counting stored values per pixel block…");
  detail.append(el("h3", {}, "Window"), form, holder, el("h3", {}, "Density (stored values per pixel block)"), progress, el("br"), canvas, caption);
  await readWindow(path, rows.value, cols.value, holder);
  // The plot streams indptr and indices in the worker, which keeps answering other requests
  // between its steps; started by the caller once the rest of the view is drawn.
  const width = Math.min(512, s.shape[1]) || 1;
  const height = Math.min(512, s.shape[0]) || 1;
  return () => call("density", { path, width, height }, (p) => (progress.value = p))
    .then((r) => {
      progress.value = 1;
      const max = drawDensity(canvas, r);
      caption.textContent = `${width} × ${height} blocks of ${(s.shape[0] / height).toFixed(1)} rows × ${(s.shape[1] / width).toFixed(1)} columns; max ${max} per block; ${r.ms.toFixed(0)} ms`;
      canvas.dataset.done = "1";
    })
    .catch((e) => {
      caption.textContent = `density: ${e.message}`;
      canvas.dataset.done = "error";
    });
}

async function readWindow(path, rowSel, colSel, holder) {
  const m = await call("sparseRead", { path, rows: rowSel || null, cols: colSel || null });
  const [nr, nc] = m.shape;
  const shownR = Math.min(nr, 200);
  const shownC = Math.min(nc, 50);
  const table = el("table", { id: "sparse-window", "data-rows": rowSel, "data-cols": colSel });
  table.append(el("tr", {}, el("th", {}, ""), ...Array.from({ length: shownC }, (_, j) => el("th", {}, j))));
  for (let r = 0; r < shownR; r++) {
    const cells = new Array(shownC).fill(null);
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
      if (m.indices[k] < shownC) cells[m.indices[k]] = (cells[m.indices[k]] ?? 0) + Number(m.data[k]);
    }
    const tr = el("tr", {}, el("th", {}, r));
    cells.forEach((v, c) => tr.append(el("td", { class: v === null ? "zero" : "", "data-row": r, "data-col": c }, v === null ? "·" : fmtValue(v))));
    table.append(tr);
  }
  const note = el("div", {}, `${nr} × ${nc} selected, ${m.indptr[nr]} stored values${nr > shownR || nc > shownC ? ` (showing ${shownR} × ${shownC}; row/column numbers are within the selection)` : ""}`);
  holder.replaceChildren(note, table);
}

/** Paints the counts (log scale); returns the largest. */
function drawDensity(canvas, { counts, width, height }) {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(width, height);
  let max = 0;
  for (const c of counts) if (c > max) max = c;
  const scale = Math.log1p(max) || 1;
  for (let i = 0; i < counts.length; i++) {
    const t = counts[i] === 0 ? 0 : 0.15 + (0.85 * Math.log1p(counts[i])) / scale;
    // white → dark blue
    img.data[4 * i] = 255 - 230 * t;
    img.data[4 * i + 1] = 255 - 200 * t;
    img.data[4 * i + 2] = 255 - 110 * t;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return max;
}

/** Rows per page of the obs/var tables. */
const FRAME_ROWS = 20;

async function renderAnnData(detail) {
  detail.append(el("h3", {}, "AnnData"), el("pre", { class: "summary", id: "anndata-summary" }, anndata.summary));
  for (const axis of ["obs", "var"]) {
    const holder = el("div", { id: `${axis}-frame` });
    detail.append(holder);
    await renderFrame(holder, axis, 0);
  }
}

/** One page of obs or var (rows start..start + FRAME_ROWS, read alone), with prev/next. */
async function renderFrame(holder, axis, start) {
  const f = await call("frame", { axis, start, rows: FRAME_ROWS });
  const table = el("table", { id: `${axis}-table`, "data-start": f.start });
  table.append(el("tr", {}, el("th", {}, `${axis}_names`), ...f.columns.map((c) => el("th", { title: c.kind }, c.name))));
  f.names.forEach((name, i) => table.append(el("tr", {}, el("td", { class: "text" }, name), ...f.values.map((col) => el("td", { class: "text" }, col[i])))));
  const page = (to) => async () => {
    setState("loading");
    try {
      await renderFrame(holder, axis, to);
      setState("ready");
    } catch (e) {
      showError(e.message);
    }
  };
  const prev = el("button", { id: `${axis}-prev`, type: "button" }, "◀ prev");
  const next = el("button", { id: `${axis}-next`, type: "button" }, "next ▶");
  prev.disabled = f.start === 0;
  next.disabled = f.start + f.names.length >= f.total;
  prev.onclick = page(Math.max(0, f.start - FRAME_ROWS));
  next.onclick = page(f.start + FRAME_ROWS);
  const shown = f.names.length ? `rows ${f.start}–${f.start + f.names.length - 1} of ${f.total}` : `0 of ${f.total} rows`;
  holder.replaceChildren(el("h3", {}, `${axis} (${shown}) `, prev, " ", next), table);
}

// Opening: the file picker, drag and drop, the URL box, and ?url= on load.
$("#file-input").onchange = (e) => {
  const f = e.target.files[0];
  if (f) openSource({ blob: f, name: f.name }, f.name);
};
$("#url-form").onsubmit = (e) => {
  e.preventDefault();
  const url = new URL($("#url-input").value, location.href).href;
  openSource({ url }, url);
};
addEventListener("dragover", (e) => {
  e.preventDefault();
  document.body.classList.add("dragging");
});
addEventListener("dragleave", () => document.body.classList.remove("dragging"));
addEventListener("drop", (e) => {
  e.preventDefault();
  document.body.classList.remove("dragging");
  const f = e.dataTransfer.files[0];
  if (f) openSource({ blob: f, name: f.name }, f.name);
});
if (params.get("url")) {
  const url = new URL(params.get("url"), location.href).href;
  $("#url-input").value = url;
  openSource({ url }, url);
}
