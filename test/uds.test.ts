// The UDS side of the FFI-vs-UDS benchmark: native/build/tresty-uds-echo and
// bench/lib/uds-client.mjs, over a unix socket in a temp dir.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUds, FrameParser, type UdsClient } from '../bench/lib/uds-client.mjs';
import { startUdsEcho, type UdsEchoServer } from '../bench/lib/uds-server.mjs';

const root = path.resolve(import.meta.dirname, '..');
const haveCc = spawnSync('sh', ['-c', 'command -v make && (command -v cc || command -v gcc)'], { stdio: 'ignore' }).status === 0;
const reason = 'make or a C compiler is missing (Debian: apt-get install build-essential)';
const maybe = haveCc ? describe : describe.skip;
if (!haveCc) console.warn(`uds tests skipped: ${reason}`);

type Server = UdsEchoServer;
type Client = UdsClient;

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 255;
  return b;
}

function frame(payload: Buffer): Buffer {
  const h = Buffer.allocUnsafe(4);
  h.writeUInt32LE(payload.length, 0);
  return Buffer.concat([h, payload]);
}

maybe(haveCc ? 'tresty-uds-echo' : `tresty-uds-echo (skipped: ${reason})`, () => {
  let dir: string;
  let server: Server;

  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', path.join(root, 'native', 'runtimes'), 'uds'], { stdio: 'inherit' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'tresty-uds-'));
    server = await startUdsEcho(path.join(dir, 'echo.sock'), { threads: 2 });
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('echoes 0 B, 512 B, 100 KB and 1 MB frames, pipelined, in order', async () => {
    const c: Client = await connectUds(server.socketPath);
    const sizes = [0, 512, 100 * 1024, 1024 * 1024];
    const sent: Buffer[] = [];
    const answers: Promise<unknown>[] = [];
    // Three rounds of every size in one tick: all twelve are in flight together.
    for (let round = 0; round < 3; round++) {
      for (const n of sizes) {
        const p = pattern(n, round);
        sent.push(p);
        answers.push(c.call(p));
      }
    }
    expect(c.inFlight).toBe(12);
    const got = (await Promise.all(answers)) as Uint8Array[];
    got.forEach((g, i) => {
      expect(g.length).toBe(sent[i]!.length);
      expect(Buffer.compare(Buffer.from(g), sent[i]!)).toBe(0);
    });
    await c.close();
  });

  it('answers 5,000 pipelined calls in order', async () => {
    const c: Client = await connectUds(server.socketPath, { codec: 'string' });
    const calls = Array.from({ length: 5000 }, (_, i) => c.call(`call ${i}`));
    const got = await Promise.all(calls);
    expect(got).toEqual(Array.from({ length: 5000 }, (_, i) => `call ${i}`));
    await c.close();
  });

  it('uses the same codecs as the FFI formats (json, msgpack) and accepts a custom one', async () => {
    const value = { a: 1, b: ['x', null, true], c: 'é' };
    for (const codec of ['json', 'msgpack'] as const) {
      const c: Client = await connectUds(server.socketPath, { codec });
      expect(await c.call(value)).toEqual(value);
      await c.close();
    }
    const upper = {
      encode: (v: string) => new TextEncoder().encode(v),
      decode: (b: Uint8Array) => new TextDecoder().decode(b).toUpperCase(),
    };
    const c: Client = await connectUds(server.socketPath, { codec: upper });
    expect(await c.call('abc')).toBe('ABC');
    await c.close();
  });

  it('reassembles frames that arrive in pieces and serves connections side by side', async () => {
    const raw = net.createConnection(server.socketPath);
    await new Promise((r) => raw.once('connect', r));
    const bytes = Buffer.concat([frame(pattern(3000, 1)), frame(Buffer.alloc(0)), frame(pattern(10, 2))]);
    const received: Buffer[] = [];
    raw.on('data', (d: Buffer) => received.push(d));
    const other: Client = await connectUds(server.socketPath);
    // Dribble the first connection's bytes in odd-sized pieces while the other one works.
    for (let at = 0; at < bytes.length; at += 777) {
      raw.write(bytes.subarray(at, at + 777));
      const echoed = (await other.call(pattern(64, at))) as Uint8Array;
      expect(Buffer.compare(Buffer.from(echoed), pattern(64, at))).toBe(0);
    }
    await new Promise<void>((resolve) => {
      const check = () => (Buffer.concat(received).length >= bytes.length ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(Buffer.compare(Buffer.concat(received), bytes)).toBe(0);
    raw.destroy();
    await other.close();
  });

  it('rejects calls in flight when the connection drops', async () => {
    const s2: Server = await startUdsEcho(path.join(dir, 'drop.sock'));
    const c: Client = await connectUds(s2.socketPath);
    expect(Buffer.from((await c.call(Buffer.from('x'))) as Uint8Array).toString()).toBe('x');
    process.kill(s2.pid, 'SIGKILL');
    await expect(c.call(pattern(1 << 20, 3))).rejects.toThrow();
    await expect(c.call(Buffer.from('y'))).rejects.toThrow();
    await s2.stop();
  });

  it('exits 0 on SIGTERM and removes its socket', async () => {
    const sock = path.join(dir, 'term.sock');
    const s2: Server = await startUdsEcho(sock);
    expect(existsSync(sock)).toBe(true);
    expect(await s2.stop()).toBe(0);
    expect(existsSync(sock)).toBe(false);
  });
});

describe('FrameParser', () => {
  it('splits a stream fed one byte at a time', () => {
    const frames: Buffer[] = [];
    const p = new FrameParser((f: Buffer) => frames.push(Buffer.from(f)));
    const stream = Buffer.concat([frame(Buffer.from('hello')), frame(Buffer.alloc(0)), frame(pattern(300, 9))]);
    for (const byte of stream) p.push(Buffer.from([byte]));
    expect(frames.map((f) => f.length)).toEqual([5, 0, 300]);
    expect(frames[0]!.toString()).toBe('hello');
    expect(Buffer.compare(frames[2]!, pattern(300, 9))).toBe(0);
  });
});
