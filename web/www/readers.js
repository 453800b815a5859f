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

/**
 * A URL read with HTTP range requests. A server that ignores `Range` (answers 200 with the
 * whole body, as `python3 -m http.server` does) still works: the first answer is kept and
 * read from memory.
 */
export function urlReader(url) {
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
  return {
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
  };
}
