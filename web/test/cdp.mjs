// A small driver for headless Chromium over the DevTools protocol (no npm package): starts
// the browser with a throwaway profile, opens one page, evaluates expressions in it, sets
// file inputs and takes screenshots. Needs a WebSocket client (node >= 22, or node 20 with
// --experimental-websocket).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export async function launch(binary) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "h5sparse-chromium-"));
  const proc = spawn(
    binary,
    [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      "about:blank",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const wsUrl = await new Promise((resolve, reject) => {
    let err = "";
    const timer = setTimeout(() => reject(new Error(`chromium did not start:\n${err}`)), 30000);
    proc.stderr.on("data", (d) => {
      err += d;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on("exit", (code) => reject(new Error(`chromium exited (${code}):\n${err}`)));
  });
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("cannot connect to chromium's DevTools socket"));
  });
  let nextId = 1;
  const waiting = new Map();
  const listeners = [];
  ws.onmessage = ({ data }) => {
    const msg = JSON.parse(data);
    if (msg.id && waiting.has(msg.id)) {
      const { resolve, reject } = waiting.get(msg.id);
      waiting.delete(msg.id);
      if (msg.error) reject(new Error(`${msg.error.message} ${msg.error.data ?? ""}`));
      else resolve(msg.result);
    } else if (msg.method) {
      for (const l of listeners) l(msg);
    }
  };
  const send = (method, params = {}, sessionId) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });

  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const page = (method, params) => send(method, params, sessionId);
  const consoleLines = [];
  listeners.push((msg) => {
    if (msg.sessionId !== sessionId) return;
    if (msg.method === "Runtime.consoleAPICalled") consoleLines.push(msg.params.args.map((a) => a.value ?? a.description).join(" "));
    if (msg.method === "Runtime.exceptionThrown") consoleLines.push(`exception: ${msg.params.exceptionDetails.exception?.description ?? msg.params.exceptionDetails.text}`);
  });
  await page("Page.enable");
  await page("Runtime.enable");
  await page("Emulation.setDeviceMetricsOverride", { width: 1280, height: 860, deviceScaleFactor: 1, mobile: false });

  const api = {
    console: consoleLines,
    /** Navigates and waits until the new document has loaded. */
    async goto(url) {
      await page("Page.navigate", { url });
      await api.waitFor(`location.href === ${JSON.stringify(url)} && document.readyState === "complete"`);
    },
    /** The value of a JS expression in the page (awaited when it is a promise). */
    async eval(expression) {
      const r = await page("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
      if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      return r.result.value;
    },
    /** Waits until `expression` is truthy; returns its value. */
    async waitFor(expression, timeoutMs = 20000) {
      const t0 = Date.now();
      for (;;) {
        const v = await api.eval(expression).catch(() => undefined);
        if (v) return v;
        if (Date.now() - t0 > timeoutMs) {
          const state = await api.eval("document.body && document.body.dataset.state + ' | ' + document.querySelector('#status')?.textContent + ' | ' + document.querySelector('#error')?.textContent").catch((e) => e.message);
          throw new Error(`timed out waiting for ${expression}; page: ${state}; console:\n${consoleLines.join("\n")}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async setFiles(selector, files) {
      const { root } = await page("DOM.getDocument", { depth: -1 });
      const { nodeId } = await page("DOM.querySelector", { nodeId: root.nodeId, selector });
      await page("DOM.setFileInputFiles", { nodeId, files });
    },
    async screenshot(file) {
      const { data } = await page("Page.captureScreenshot", { format: "png" });
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, Buffer.from(data, "base64"));
    },
    async close() {
      try {
        await send("Browser.close");
      } catch {
        // already gone
      }
      ws.close();
      await new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve();
        const t = setTimeout(() => {
          proc.kill("SIGKILL");
          resolve();
        }, 5000);
        proc.on("exit", () => {
          clearTimeout(t);
          resolve();
        });
      });
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
  return api;
}
