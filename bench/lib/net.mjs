// Free ports and readiness checks for the HTTP servers under test (127.0.0.1 only).
import http from 'node:http';
import net from 'node:net';

/** A port the kernel says is free now (another process could take it later: we retry on EADDRINUSE). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** One request; resolves { status, body } or rejects. */
export function fetchOnce(url, { method = 'GET', body, timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Polls url until it answers 200 (the server is up), or fails after timeoutMs with the last error. */
export async function waitForHttp(url, { timeoutMs = 15000, proc } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    if (proc && (proc.child.exitCode !== null || proc.child.signalCode !== null)) {
      throw new Error(`exited before serving ${url}:\n${proc.output().trim()}`);
    }
    try {
      const r = await fetchOnce(url, { timeoutMs: 1000 });
      if (r.status === 200) return;
      last = new Error(`status ${r.status}`);
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready in ${timeoutMs} ms: ${last?.message}${proc ? `\n${proc.output().trim()}` : ''}`);
}
