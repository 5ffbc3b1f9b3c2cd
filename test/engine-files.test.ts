// A static file that shrinks while the engine sends it (issue 11, 3): the connection is closed
// (the client sees a body shorter than its Content-Length, never the next answer inside it) and
// nginx's [alert] is logged, with pread (sendfile off, nginx's default) and with sendfile.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_BUILT } from './helpers/engine.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { SHRUNK, shrinkWhileSent } from './helpers/shrink.js';

const SIZE = 200 * 1024 * 1024; // sparse: no disk used


describe.skipIf(!ENGINE_BUILT)(`a static file that shrinks while sent${ENGINE_BUILT ? '' : ' (skipped: the native engine is not built)'}`, () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(`
worker_processes 1;
error_log logs/error.log info;
http {
  access_log off;
  server {
    listen 127.0.0.1:${port};
    location /plain/ { root html; }
    location /sf/ { root html; sendfile on; }
    location /js/ { root html; log_by_js_block { } }
  }
}
`, { files: { 'html/plain/.keep': '', 'html/sf/.keep': '', 'html/js/.keep': '' } });
  });
  afterAll(async () => { await t?.stop(); });

  for (const [dir, line] of [
    ['plain', /\[alert\] \d+#0: \*\d+ pread\(\) read only \d+ of \d+ from ".*\/html\/plain\/big\.bin" while sending response to client, client: 127\.0\.0\.1/],
    ['sf', /\[alert\] \d+#0: \*\d+ sendfile\(\) reported that ".*\/html\/sf\/big\.bin" was truncated at \d+ while sending response to client, client: 127\.0\.0\.1/],
    // A location with a JS handler: the pipeline serves the file.
    ['js', /\[alert\] \d+#0: \*\d+ pread\(\) read only \d+ of \d+ from ".*\/html\/js\/big\.bin" while sending response to client, client: 127\.0\.0\.1/],
  ] as const) {
    it(`closes the connection and logs the alert (${dir === 'sf' ? 'sendfile on' : dir === 'js' ? 'served by JS' : 'sendfile off'})`, async () => {
      const file = path.join(t.prefix, 'html', dir, 'big.bin');
      fs.writeFileSync(file, '');
      fs.truncateSync(file, SIZE);
      const r = await shrinkWhileSent(port, `/${dir}/big.bin`, file);
      expect(r.length).toBe(SIZE);
      expect(r.closed).toBe(true);
      expect(r.bytes).toBeLessThan(SIZE);
      expect(r.bytes).toBeLessThanOrEqual(SHRUNK);
      await expect.poll(() => t.errorLog()).toMatch(line);
    });
  }
});
