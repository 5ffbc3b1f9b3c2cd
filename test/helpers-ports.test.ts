// The tests' port picker (test/helpers/ports.ts): a port it hands out lies outside the kernel's
// ephemeral range, so no listen(0) or connect() anywhere on the machine can take it before the
// server that was given it binds; and no two test processes are handed the same port, even when
// both take over the reservations of a process that ended. The second runs the helper in fresh
// processes (transpiled with the project's TypeScript).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/ports.js';

const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-ports-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('test helper: freePort', () => {
  it('hands out ports outside the ephemeral range, each once, that a server can bind', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 50; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(50);
    for (const p of ports) expect(p < lo || p > hi, `port ${p} inside ${lo}-${hi}`).toBe(true);
    // listen(0) draws from the ephemeral range: it cannot land on one of them.
    const zero = net.createServer();
    await new Promise<void>((r) => zero.listen(0, '127.0.0.1', r));
    const got = (zero.address() as net.AddressInfo).port;
    zero.close();
    expect(got >= lo && got <= hi).toBe(true);
    const s = net.createServer();
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(ports[0], '127.0.0.1', resolve); });
    s.close();
  });

  it('never gives two processes picking at the same time the same port, stale reservations included', async () => {
    const src = fs.readFileSync(new URL('./helpers/ports.ts', import.meta.url), 'utf8');
    const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    fs.writeFileSync(path.join(dir, 'ports.mjs'), js);
    // Both start from the same port (the random start fixed): without the shared reservations
    // they would hand out the same 100 ports.
    // Each process stays alive, holding its reservations, until `together` processes have picked
    // theirs: under load one could otherwise finish and exit before the other starts, and then the
    // other rightly takes its stale ports over.
    const script = `const m = await import(${JSON.stringify(path.join(dir, 'ports.mjs'))});
      const fs = await import('node:fs');
      Math.random = () => 0.5;
      const out = [];
      for (let i = 0; i < 100; i++) out.push(await m.freePort());
      const [barrier, together] = [process.env.BARRIER, Number(process.env.TOGETHER)];
      fs.writeFileSync(barrier + '/' + process.pid, '');
      while (fs.readdirSync(barrier).length < together) await new Promise((r) => setTimeout(r, 10));
      console.log(JSON.stringify(out));`;
    const run = (barrier: string, together: number) => promisify(execFile)(process.execPath, ['--input-type=module', '-e', script],
      { timeout: 30_000, env: { ...process.env, BARRIER: barrier, TOGETHER: String(together) } })
      .then(({ stdout }) => JSON.parse(stdout) as number[]);
    const barrier = (name: string) => fs.mkdirSync(path.join(dir, name), { recursive: true }) ?? path.join(dir, name);
    // A first one alone, gone when the two start: they find its 100 reservations stale and race
    // to take them over.
    const first = await run(barrier('first'), 1);
    const both = barrier('both');
    const [a, b] = await Promise.all([run(both, 2), run(both, 2)]);
    expect([...a, ...b].filter((p) => first.includes(p)).length).toBeGreaterThan(50); // they did take them over
    expect(new Set(a).size).toBe(100);
    expect(new Set(b).size).toBe(100);
    expect(a.filter((p) => b.includes(p))).toEqual([]);
  }, 60_000);
});
