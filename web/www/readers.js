// Synchronous readers for h5sparse's `H5File.open(reader)`: `{ name, length, read(offset,
// length) -> Uint8Array }`. They block, so they belong in a Web Worker (worker.js), where
// FileReaderSync and synchronous XMLHttpRequest are allowed.

/** A File or Blob, read range by range with FileReaderSync: never copied whole. */
export function blobReader(blob, name = blob.name || "blob") {
  const fr = new FileReaderSync();
  return {
    name,
    length: blob.size,
    read(offset, length) {
      return new Uint8Array(fr.readAsArrayBuffer(blob.slice(offset, offset + length)));
    },
  };
}

/** Ranges closer than this are fetched as one (the bytes between them read too). */
const MERGE_GAP = 64 << 10;

/** The first index of `needle` (bytes) in `hay` from `from`, or -1. */
function find(hay, needle, from) {
  for (let i = hay.indexOf(needle[0], from); i >= 0 && i + needle.length <= hay.length; i = hay.indexOf(needle[0], i + 1)) {
    let k = 1;
    while (k < needle.length && hay[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
  }
  return -1;
}

/**
 * The parts of a `multipart/byteranges` body: [{ start, bytes }], in the order sent. Throws on
 * a part without its `Content-Range` or shorter than it says.
 */
export function byteRangeParts(body, boundary, what) {
  const enc = new TextEncoder();
  const delim = enc.encode(`--${boundary}`);
  const parts = [];
  for (let at = find(body, delim, 0); at >= 0; ) {
    const after = at + delim.length;
    if (body[after] === 45 && body[after + 1] === 45) break; // "--": the closing delimiter
    const headEnd = find(body, enc.encode("\r\n\r\n"), after);
    if (headEnd < 0) throw new Error(`${what}: a multipart/byteranges part without its headers' end`);
    const head = new TextDecoder().decode(body.subarray(after, headEnd));
    const m = /content-range:\s*bytes\s+(\d+)-(\d+)\//i.exec(head);
    if (!m) throw new Error(`${what}: a multipart/byteranges part without Content-Range`);
    const [start, end] = [Number(m[1]), Number(m[2])];
    const from = headEnd + 4;
    if (from + end - start + 1 > body.length) throw new Error(`${what}: part ${start}-${end} is cut short`);
    parts.push({ start, bytes: body.subarray(from, from + end - start + 1) });
    at = find(body, delim, from + end - start + 1);
  }
  return parts;
}

/**
 * A URL read with HTTP range requests. A server that ignores `Range` (answers 200 with the
 * whole body, as `python3 -m http.server` does) still works: the first answer is kept and
 * read from memory.
 *
 * `readRanges([[offset, length], ...])` (h5sparse's batched reads) merges ranges less than
 * 64 KiB apart into one request each; with `{ multiRange: true }` all of them go in one
 * request (`Range: bytes=a-b,c-d`, answered as `multipart/byteranges`), for servers known to
 * support it: one that does not may answer with the whole file (S3 does).
 */
export function urlReader(url, { multiRange = false } = {}) {
  const get = (range) => {
    const xhr = new XMLHttpRequest();
    xhr.open("GET", url, false);
    xhr.responseType = "arraybuffer";
    if (range) xhr.setRequestHeader("Range", range);
    xhr.send();
    if (xhr.status !== 200 && xhr.status !== 206) {
      throw new Error(`${url}: HTTP ${xhr.status} ${xhr.statusText}`);
    }
    return xhr;
  };
  const first = get("bytes=0-0");
  let whole = null;
  let length;
  if (first.status === 206) {
    const m = /\/(\d+)\s*$/.exec(first.getResponseHeader("Content-Range") || "");
    if (!m) throw new Error(`${url}: a 206 answer without the file's length in Content-Range`);
    length = Number(m[1]);
  } else {
    whole = new Uint8Array(first.response);
    length = whole.length;
  }
  const stats = { requests: 1, bytes: first.response.byteLength };
  const reader = {
    name: url,
    length,
    stats,
    read(offset, n) {
      if (whole) return whole.subarray(offset, offset + n);
      const xhr = get(`bytes=${offset}-${offset + n - 1}`);
      stats.requests += 1;
      stats.bytes += xhr.response.byteLength;
      if (xhr.status === 200) {
        // The server stopped honouring ranges: keep the whole body.
        whole = new Uint8Array(xhr.response);
        return whole.subarray(offset, offset + n);
      }
      return new Uint8Array(xhr.response);
    },
    readRanges(ranges) {
      const out = ranges.map(() => new Uint8Array(0));
      // Spans: the ranges by offset, merged when less than MERGE_GAP apart.
      const spans = [];
      const order = ranges.map((_, i) => i).filter((i) => ranges[i][1] > 0);
      order.sort((a, b) => ranges[a][0] - ranges[b][0]);
      for (const i of order) {
        const [o, n] = ranges[i];
        const last = spans[spans.length - 1];
        if (last && o <= last.end + MERGE_GAP) {
          last.end = Math.max(last.end, o + n);
          last.members.push(i);
        } else spans.push({ start: o, end: o + n, members: [i] });
      }
      // Fills the spans' ranges from bytes that start at `start`.
      const fill = (members, bytes, start) => {
        for (const i of members) {
          const [o, n] = ranges[i];
          if (o < start || o + n > start + bytes.length) throw new Error(`${url}: the answer does not hold bytes ${o}-${o + n - 1}`);
          out[i] = bytes.subarray(o - start, o - start + n);
        }
      };
      if (spans.length > 1 && multiRange && !whole) {
        const xhr = get(`bytes=${spans.map((s) => `${s.start}-${s.end - 1}`).join(",")}`);
        stats.requests += 1;
        stats.bytes += xhr.response.byteLength;
        const body = new Uint8Array(xhr.response);
        const type = xhr.getResponseHeader("Content-Type") || "";
        const boundary = /multipart\/byteranges;\s*boundary="?([^";]+)"?/i.exec(type);
        if (xhr.status === 200) {
          whole = body;
        } else if (boundary) {
          const parts = byteRangeParts(body, boundary[1], url);
          for (const s of spans) {
            const p = parts.find((p) => p.start <= s.start && p.start + p.bytes.length >= s.end);
            if (!p) throw new Error(`${url}: the multipart answer lacks bytes ${s.start}-${s.end - 1}`);
            fill(s.members, p.bytes, p.start);
          }
          return out;
        } else {
          // One range covering them all (a server may coalesce).
          const m = /bytes\s+(\d+)-/.exec(xhr.getResponseHeader("Content-Range") || "");
          if (!m) throw new Error(`${url}: a 206 answer without Content-Range`);
          fill(order, body, Number(m[1]));
          return out;
        }
      }
      for (const s of spans) fill(s.members, whole ? whole.subarray(s.start, s.end) : reader.read(s.start, s.end - s.start), s.start);
      return out;
    },
  };
  return reader;
}
