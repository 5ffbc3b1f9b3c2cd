// A static file truncated while it is being sent: the client side of the fault tests on both
// engines (issue 11, item 3).
import fs from 'node:fs';
import net from 'node:net';

/** The size a test file is truncated to once 2 MB of its answer arrived. */
export const SHRUNK = 20 * 1024 * 1024;

/**
 * Asks for `urlPath` (with a second request pipelined behind it when `pipelined`), reads 2 MB of
 * the answer, truncates `file` to SHRUNK, reads on: { bytes, length, closed }. `closed` is false
 * when the server kept the connection for 20 s, the fault the tests look for.
 */
export function shrinkWhileSent(port: number, urlPath: string, file: string, pipelined = false): Promise<{ bytes: number; length: number; closed: boolean }> {
  const second = pipelined ? 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' : '';
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${urlPath} HTTP/1.1\r\nHost: x\r\n\r\n${second}`));
    let head = '';
    let length = -1;
    let bytes = 0;
    let shrunk = false;
    const timer = setTimeout(() => { s.destroy(); resolve({ bytes, length, closed: false }); }, 20_000);
    s.on('data', (d: Buffer) => {
      if (length < 0) {
        head += d.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        length = Number(/content-length: (\d+)/i.exec(head)![1]);
        bytes = head.length - end - 4;
      } else {
        bytes += d.length;
      }
      if (!shrunk && bytes > 2 * 1024 * 1024) {
        shrunk = true;
        fs.truncateSync(file, SHRUNK);
      }
    });
    s.on('error', reject);
    s.on('close', () => { clearTimeout(timer); resolve({ bytes, length, closed: true }); });
  });
}
