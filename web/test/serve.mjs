// A static file server for the browser test: answers GET and HEAD with `Range` requests
// (206 + Content-Range; several ranges as multipart/byteranges), as the page's URL reader
// expects of a real server.
// Listens on 127.0.0.1 on a free port; `routes` maps URL prefixes to directories. Requests
// under /stall/ are never answered (a server that hangs). `server.stats[prefix]` counts the
// requests answered under each prefix and the bytes of their bodies (for the benchmark).
import http from "node:http";
import fs from "node:fs";
import path from "node:path";

const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm", ".png": "image/png" };

export function serve(routes) {
  const stats = Object.fromEntries(Object.keys(routes).map((p) => [p, { requests: 0, bytes: 0 }]));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname.startsWith("/stall/")) return;
    const prefix = Object.keys(routes)
      .sort((a, b) => b.length - a.length)
      .find((p) => url.pathname.startsWith(p));
    let file = prefix && path.join(routes[prefix], decodeURIComponent(url.pathname.slice(prefix.length)));
    if (file && fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
    if (!file || !file.startsWith(routes[prefix]) || !fs.existsSync(file)) {
      res.writeHead(404).end("not found");
      return;
    }
    const size = fs.statSync(file).size;
    const headers = { "Content-Type": types[path.extname(file)] || "application/octet-stream", "Accept-Ranges": "bytes", "Cache-Control": "no-store" };
    // Several ranges: one multipart/byteranges answer.
    const many = /^bytes=\d+-\d+(,\s*\d+-\d+)+$/.test(req.headers.range || "");
    if (many) {
      const boundary = "h5sparse-test-boundary";
      const bufs = [];
      for (const r of req.headers.range.slice(6).split(",")) {
        const [a, b] = r.trim().split("-").map(Number);
        const end = Math.min(b, size - 1);
        const part = Buffer.alloc(end - a + 1);
        const fd = fs.openSync(file, "r");
        fs.readSync(fd, part, 0, part.length, a);
        fs.closeSync(fd);
        bufs.push(Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes ${a}-${end}/${size}\r\n\r\n`), part);
        stats[prefix].bytes += part.length;
      }
      bufs.push(Buffer.from(`\r\n--${boundary}--\r\n`));
      const body = Buffer.concat(bufs);
      stats[prefix].requests += 1;
      res.writeHead(206, { "Content-Type": `multipart/byteranges; boundary=${boundary}`, "Content-Length": body.length, "Cache-Control": "no-store" });
      return res.end(req.method === "HEAD" ? undefined : body);
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || "");
    let [start, end, status] = [0, size - 1, 200];
    if (m) {
      start = Number(m[1]);
      end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
      if (start > end || start >= size) {
        res.writeHead(416, { "Content-Range": `bytes */${size}` }).end();
        return;
      }
      status = 206;
      headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
    }
    headers["Content-Length"] = end - start + 1;
    stats[prefix].requests += 1;
    if (req.method !== "HEAD") stats[prefix].bytes += end - start + 1;
    res.writeHead(status, headers);
    if (req.method === "HEAD") return res.end();
    fs.createReadStream(file, { start, end }).pipe(res);
  });
  server.stats = stats;
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}
