// The native engine's wake-ups: a record queued outside the engine's pass must reach JS. In a
// separate process (test/fixtures/engine-late-record.mjs), an upstream socket of the engine, reset
// by its server while paused, is written from a file read's callback (libuv's poll phase), as the
// proxy sends a buffered body from its temp file: the failed send() queues an ERROR record. Before
// the fix the loop turn it asked for was stopped in the same turn's check phase, the socket was out
// of the epoll set, and the record waited forever: test/proxy-upstream.test.ts's replay from the
// temp file got no answer now and then under load. Skipped when the engine is not built.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ENGINE_BUILT } from './helpers/engine.js';
import { freePort, ROOT } from './helpers/server.js';

const fixture = path.join(ROOT, 'test', 'fixtures', 'engine-late-record.mjs');

(ENGINE_BUILT ? describe : describe.skip)('a record the engine queues outside its pass', () => {
  it('an upstream write that fails in an I/O callback reports its error (ECONNRESET or EPIPE)', async () => {
    const port = await freePort();
    const { stdout } = await promisify(execFile)(process.execPath, [fixture, ROOT, String(port)], { timeout: 20_000 });
    const out = JSON.parse(stdout.trim()) as { error: string | null; ms: number };
    // The fixture waits 3 s for the error: null means the record was never delivered.
    expect(out.error).toMatch(/^(ECONNRESET|EPIPE)$/);
  }, 30_000);
});
