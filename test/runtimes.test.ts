// The example runtimes in native/runtimes/: they build, they follow the
// lua-resty-ffi ABI (checked through the stand-in host tresty-runtime-check),
// and they answer through the real ring (src/ffi) once it exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { withTempDir } from './helpers/temp-dir.js';

const root = path.resolve(import.meta.dirname, '..');
const build = path.join(root, 'native', 'build');
const checker = path.join(build, 'tresty-runtime-check');

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
const haveCc = have('make') && (have('cc') || have('gcc'));
const haveRust = have('rustc') || existsSync(path.join(process.env.HOME ?? '/root', '.cargo', 'bin', 'rustc'));
const haveGo = have('go');

type Lang = {
  lang: string;
  target: string;
  missing: string | null; // why it cannot be built here, or null
  echo: string;
  real: string;
};
const langs: Lang[] = [
  { lang: 'C', target: 'c', echo: 'echo_c', real: 'sha256_c',
    missing: haveCc ? null : 'no C compiler (Debian: apt-get install build-essential)' },
  { lang: 'Rust', target: 'rust', echo: 'echo_rust', real: 'wordfreq_rust',
    missing: !haveCc ? 'no make/C compiler' : haveRust ? null : 'rustc not found (install rustup or Debian rustc)' },
  { lang: 'Go', target: 'go', echo: 'echo_go', real: 'gzip_go',
    missing: !haveCc ? 'no make/C compiler' : haveGo ? null : 'go not found (Debian: apt-get install golang-go)' },
];
for (const l of langs) if (l.missing) console.warn(`${l.lang} runtime tests skipped: ${l.missing}`);

const lib = (name: string) => path.join(build, `lib${name}.so`);

type Answer = { rc: number; body: Buffer };

/** Runs requests through the stand-in host: all queued at once, answers in order. */
function check(name: string, cfg: string | null, reqs: Buffer[]): Answer[] {
  const input = Buffer.concat(reqs.flatMap((r) => {
    const h = Buffer.allocUnsafe(4);
    h.writeUInt32LE(r.length, 0);
    return [h, r];
  }));
  const r = spawnSync(checker, [lib(name), cfg ?? '-'], { input, maxBuffer: 64 << 20, timeout: 30_000 });
  if (r.status !== 0) throw new Error(`tresty-runtime-check ${name} exited ${r.status}: ${r.stderr}`);
  const out: Answer[] = [];
  for (let o = 0; o < r.stdout.length;) {
    const rc = r.stdout.readInt32LE(o);
    const n = r.stdout.readUInt32LE(o + 4);
    out.push({ rc, body: r.stdout.subarray(o + 8, o + 8 + n) });
    o += 8 + n;
  }
  return out;
}

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed) & 255;
  return b;
}

// 0 B, 512 B, 100 KB, 1 MB and a crowd of small distinct requests.
const echoReqs = [0, 512, 100 * 1024, 1 << 20].map((n, i) => pattern(n, i))
  .concat(Array.from({ length: 300 }, (_, i) => Buffer.from(`request ${i}`)));

const text = 'The cat and the hat. THE END; café Café 42 x42 naïve—naïve';
const textCounts = { words: 13, unique: 9, top: [['the', 3], ['café', 2], ['naïve', 2], ['42', 1], ['and', 1]] };

/** Expected answer of each real example, computed independently in JS. */
const realExpect: Record<string, (req: Buffer, body: Buffer) => void> = {
  sha256_c: (req, body) => expect(body.toString()).toBe(createHash('sha256').update(req).digest('hex')),
  gzip_go: (req, body) => expect(Buffer.compare(gunzipSync(body), req)).toBe(0),
  wordfreq_rust: (req, body) => {
    const words = req.toString().toLowerCase().match(/[\p{Alphabetic}\p{N}]+/gu) ?? [];
    const got = JSON.parse(body.toString()) as { words: number; unique: number; top: [string, number][] };
    expect(got.words).toBe(words.length);
    expect(got.unique).toBe(new Set(words).size);
    for (const [w, n] of got.top) expect(words.filter((x) => x === w).length).toBe(n);
  },
};
const realReqs = [Buffer.alloc(0), Buffer.from(text), pattern(100 * 1024, 5).map((b) => 97 + (b % 27 === 26 ? -65 : b % 26)),
  Buffer.from('lorem ipsum dolor '.repeat(60_000))];

describe('runtimes build', () => {
  for (const l of langs) {
    const t = l.missing ? it.skip : it;
    t(l.missing ? `${l.lang}: skipped, ${l.missing}` : `${l.lang}: make ${l.target} builds lib${l.echo}.so and lib${l.real}.so`, () => {
      execFileSync('make', ['-s', '-C', path.join(root, 'native', 'runtimes'), l.target], { stdio: 'inherit' });
      expect(existsSync(lib(l.echo))).toBe(true);
      expect(existsSync(lib(l.real))).toBe(true);
      // The ABI functions must stay undefined: the host provides them at load time.
      const nm = spawnSync('nm', ['-D', '--undefined-only', lib(l.echo)], { encoding: 'utf8' });
      if (nm.status === 0) expect(nm.stdout).toContain('ngx_http_lua_ffi_task_poll');
    }, 180_000);
  }
});

describe('a missing toolchain', () => {
  (haveCc ? it : it.skip)(`skips its language with one line and does not fail the build${haveCc ? '' : ' (skipped: no make)'}`, () => {
    // RUSTC= and GO= stand for "not installed"; nothing is compiled, so BUILD can be anywhere.
    const r = spawnSync('make', ['-s', '-C', path.join(root, 'native', 'runtimes'), 'RUSTC=', 'GO=', 'BUILD=/nonexistent-tresty', 'rust', 'go'],
      { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('rustc not found: skipping Rust runtimes');
    expect(r.stdout).toContain('go not found: skipping Go runtimes (Debian: apt-get install golang-go)');
  });

  // A toolchain too old for the build: its language is skipped with the line naming it, nothing written.
  const old = [
    { title: 'rustc older than 1.56 (edition 2021)', target: 'rust', makeVar: 'RUSTC', tool: 'rustc', says: 'rustc 1.48.0',
      line: (bin: string) => `${bin} is not rustc 1.56 or later (rustc 1.48.0): skipping Rust runtimes (install rustup, or set RUSTC)\n` },
    { title: 'Go older than go.mod\'s 1.19', target: 'go', makeVar: 'GO', tool: 'go', says: 'go version go1.15.15 linux/amd64',
      line: (bin: string) => `${bin} is not Go 1.19 or later (go version go1.15.15 linux/amd64): skipping Go runtimes (Debian: apt-get install golang-go; or set GO)\n` },
  ];
  for (const o of old) {
    (haveCc ? it : it.skip)(`skips ${o.title} the same way${haveCc ? '' : ' (skipped: no make)'}`, () => {
      withTempDir(`tresty-old-${o.tool}-`, (dir) => {
        const bin = path.join(dir, o.tool);
        writeFileSync(bin, `#!/bin/sh\necho "${o.says}"\n`, { mode: 0o755 });
        const r = spawnSync('make', ['-s', '-C', path.join(root, 'native', 'runtimes'), `${o.makeVar}=${bin}`, `BUILD=${dir}`, o.target], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toBe(o.line(bin));
        expect(readdirSync(dir)).toEqual([o.tool]);
      });
    });
  }
});

describe('runtimes through the stand-in host (tresty-runtime-check)', () => {
  beforeAll(() => {
    if (haveCc) execFileSync('make', ['-s', '-C', path.join(root, 'native', 'runtimes'), 'check'], { stdio: 'inherit' });
  });

  for (const l of langs) {
    const t = l.missing ? it.skip : it;
    const skip = l.missing ? ` (skipped: ${l.missing})` : '';

    t(`${l.lang} echo answers 0 B..1 MB and 300 queued requests, cfg NULL and threads=3${skip}`, () => {
      for (const cfg of [null, 'threads=3']) {
        const got = check(l.echo, cfg, echoReqs);
        expect(got.length).toBe(echoReqs.length);
        got.forEach((a, i) => {
          expect(a.rc).toBe(0);
          expect(Buffer.compare(a.body, echoReqs[i]!)).toBe(0);
        });
      }
    });

    t(`${l.lang} ${l.real} computes the right answers${skip}`, () => {
      for (const cfg of [null, 'threads=4']) {
        const got = check(l.real, cfg, realReqs);
        got.forEach((a, i) => {
          expect(a.rc).toBe(0);
          realExpect[l.real]!(realReqs[i]!, a.body);
        });
      }
    });
  }

  const rust = langs[1]!.missing ? it.skip : it;
  rust('wordfreq_rust: exact counts, top=N from cfg, invalid UTF-8 is rc 1 with a message', () => {
    const [a] = check('wordfreq_rust', 'top=5', [Buffer.from(text)]);
    expect(JSON.parse(a!.body.toString())).toEqual(textCounts);
    const [b] = check('wordfreq_rust', 'threads=0,top=1', [Buffer.from('b a b')]);
    expect(JSON.parse(b!.body.toString())).toEqual({ words: 3, unique: 2, top: [['b', 2]] });
    const [bad] = check('wordfreq_rust', null, [Buffer.from([0x61, 0x62, 0xff, 0x63])]);
    expect(bad!.rc).not.toBe(0);
    expect(bad!.body.toString()).toBe('request is not valid UTF-8 (at byte 2)');
  });

  const go = langs[2]!.missing ? it.skip : it;
  go('gzip_go: level=1 and level=9 both round-trip; 9 is no larger on repetitive input', () => {
    const req = Buffer.from('tresty '.repeat(20_000));
    const [fast] = check('gzip_go', 'level=1', [req]);
    const [best] = check('gzip_go', 'level=9,threads=1', [req]);
    expect(Buffer.compare(gunzipSync(fast!.body), req)).toBe(0);
    expect(Buffer.compare(gunzipSync(best!.body), req)).toBe(0);
    expect(best!.body.length).toBeLessThanOrEqual(fast!.body.length);
  });

  const c = langs[0]!.missing ? it.skip : it;
  c('sha256_c: the FIPS 180-4 test vectors (NUL-terminated response, rsp_len 0)', () => {
    const vectors = ['', 'abc', 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', 'a'.repeat(1_000_000)];
    const got = check('sha256_c', '0', vectors.map((v) => Buffer.from(v)));
    expect(got.map((a) => a.body.toString())).toEqual([
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
      'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    ]);
  });
});

// Through the real ring. src/ffi is written alongside these runtimes; until it
// exists these tests are skipped and say so.
const ffiIndex = path.join(root, 'src', 'ffi', 'index.ts');
const haveFfi = existsSync(ffiIndex) && existsSync(path.join(build, 'libtresty_host.so'));
const ffiMissing = haveFfi ? null : 'src/ffi/index.ts or native/build/libtresty_host.so does not exist yet';
if (ffiMissing) console.warn(`runtimes-through-the-ring tests skipped: ${ffiMissing}`);

type Plugin = { call(req: unknown): Promise<unknown>; unload(): Promise<void> };
type LoadFfi = (lib: string, cfg?: string | null, opts?: { searchPath?: string[]; format?: string }) => Promise<Plugin> | Plugin;

describe(ffiMissing ? `runtimes through the ring (skipped: ${ffiMissing})` : 'runtimes through the ring (loadFfi)', () => {
  let loadFfi: LoadFfi;
  beforeAll(async () => {
    if (!haveFfi) return;
    loadFfi = ((await import(/* @vite-ignore */ ffiIndex)) as { loadFfi: LoadFfi }).loadFfi;
  });

  for (const l of langs) {
    const missing = ffiMissing ?? l.missing;
    const t = missing ? it.skip : it;
    const skip = missing ? ` (skipped: ${missing})` : '';

    t(`${l.lang} echo: raw and string formats, 0 B..1 MB, 200 concurrent calls${skip}`, async () => {
      const raw = await loadFfi(l.echo, null, { searchPath: [build], format: 'raw' });
      try {
        const reqs = echoReqs.slice(0, 204);
        const got = (await Promise.all(reqs.map((r) => raw.call(new Uint8Array(r))))) as Uint8Array[];
        got.forEach((g, i) => expect(Buffer.compare(Buffer.from(g), reqs[i]!)).toBe(0));
      } finally {
        await raw.unload();
      }
      const str = await loadFfi(l.echo, 'threads=2', { searchPath: [build], format: 'string' });
      try {
        expect(await str.call('')).toBe('');
        expect(await str.call('héllo wörld')).toBe('héllo wörld');
      } finally {
        await str.unload();
      }
    });

    t(`${l.lang} ${l.real}: raw and string formats${skip}`, async () => {
      const raw = await loadFfi(l.real, null, { searchPath: [build], format: 'raw' });
      try {
        for (const req of realReqs) realExpect[l.real]!(req, Buffer.from((await raw.call(new Uint8Array(req))) as Uint8Array));
      } finally {
        await raw.unload();
      }
      if (l.real === 'gzip_go') return; // gzip output is binary: 'string' would mangle it
      const str = await loadFfi(l.real, null, { searchPath: [build], format: 'string' });
      try {
        const answer = (await str.call(text)) as string;
        realExpect[l.real]!(Buffer.from(text), Buffer.from(answer));
      } finally {
        await str.unload();
      }
    });
  }

  /** Names of this process's threads (runtimes name theirs NAME-poll, NAME-w...). */
  function threadNames(): string[] {
    return readdirSync('/proc/self/task').map((t) => {
      try {
        return readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
      } catch {
        return ''; // the thread ended while we looked
      }
    });
  }

  async function until(cond: () => boolean, ms: number): Promise<boolean> {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (cond()) return true;
    return cond();
  }

  // Go's workers are goroutines, not threads of their own: its poll loop alone holds a named
  // thread (locked to it), and after unload no thread keeps that name, or the engine would take a
  // thread of Go's for a poller.
  const threadLangs: [Lang, string, string, number][] = [[langs[0]!, 'sha256_c', 'sha256_c-', 4], [langs[1]!, 'wordfreq_rust', 'wordfreq-', 4], [langs[2]!, 'gzip_go', 'gzip_go-poll', 1]];
  for (const [l, name, prefix, count] of threadLangs) {
    const missing = ffiMissing ?? l.missing ?? (existsSync('/proc/self/task') ? null : 'no /proc');
    (missing ? it.skip : it)(`${l.lang} ${name}: its threads start with the plugin and end after unload${missing ? ` (skipped: ${missing})` : ''}`, async () => {
      const mine = () => threadNames().filter((n) => n.startsWith(prefix)).length;
      const before = mine();
      const p = await loadFfi(name, 'threads=3', { searchPath: [build], format: 'string' });
      expect(typeof (await p.call('abc'))).toBe('string');
      // The poller and 3 workers (Go: the poller); Rust's workers name themselves once they run, so wait for the names.
      expect(await until(() => mine() === before + count, 3000)).toBe(true);
      expect(mine()).toBe(before + count);
      await p.unload();
      expect(await until(() => mine() === before, 3000)).toBe(true);
    });
  }

  const rustRing = ffiMissing ?? langs[1]!.missing;
  (rustRing ? it.skip : it)(`wordfreq_rust: rc != 0 reaches the caller with rc and message${rustRing ? ` (skipped: ${rustRing})` : ''}`, async () => {
    const p = await loadFfi('wordfreq_rust', null, { searchPath: [build], format: 'raw' });
    try {
      await expect(p.call(new Uint8Array([0x61, 0xff]))).rejects.toMatchObject({
        code: 'TRESTY_ERR_FFI_RUNTIME', rc: 1, runtimeMessage: 'request is not valid UTF-8 (at byte 1)',
      });
      // The runtime is still serving after a failure.
      expect(JSON.parse(Buffer.from((await p.call(new Uint8Array(Buffer.from('ok ok')))) as Uint8Array).toString()))
        .toEqual({ words: 2, unique: 1, top: [['ok', 2]] });
    } finally {
      await p.unload();
    }
  });
});
