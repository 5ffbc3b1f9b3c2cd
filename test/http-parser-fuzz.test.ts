// Fuzzing the HTTP/1.1 request parser under AddressSanitizer + UBSan, for a bounded time:
//  - native/http/test/fuzz_driver.c, a seeded random + mutation driver in plain C (any compiler
//    with ASan), seeded with the refusal table's shapes;
//  - native/http/test/fuzz_libfuzzer.c under libFuzzer, when clang can link it (CI installs
//    clang and libclang-rt-14-dev).
// Both check the invariants in fuzz_core.h on every input; any broken invariant or sanitizer
// report fails the test with the input. TRESTY_FUZZ_SECONDS and TRESTY_FUZZ_SEED override the
// budget (10 s for the driver, 15 s for libFuzzer, which finds more per second by following
// coverage; one value sets both) and the driver's seed (random, printed).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { httpShapes, shapeBytes } from './fixtures/http-refusals.js';
import { httpBuild, make, noCompiler, run } from './helpers/native-http.js';

const DRIVER_SECONDS = Number(process.env.TRESTY_FUZZ_SECONDS ?? 10);
const LIBFUZZER_SECONDS = Number(process.env.TRESTY_FUZZ_SECONDS ?? 15);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-fuzz-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Why `cc` cannot build with the sanitizer flags here, or null when it can. */
function cannotBuild(cc: string, flags: string[], main: string): string | null {
  const src = path.join(tmp, `probe-${path.basename(cc)}.c`);
  fs.writeFileSync(src, main);
  const r = spawnSync(cc, [...flags, '-o', path.join(tmp, 'probe'), src], { encoding: 'utf8' });
  if (r.error) return `${cc} is not installed`;
  return r.status === 0 ? null : `${cc} ${flags.join(' ')} does not link: ${r.stderr.split('\n')[0]}`;
}

function noAsan(): string | null {
  const why = noCompiler();
  if (why) return why;
  const cc = process.env.CC ?? 'cc';
  const bad = cannotBuild(cc, ['-fsanitize=address,undefined'], 'int main(void) { return 0; }\n');
  return bad ? `${bad} (Debian: apt-get install gcc, which brings libasan)` : null;
}

function noLibFuzzer(): string | null {
  const bad = cannotBuild(process.env.CLANG ?? 'clang', ['-fsanitize=fuzzer,address,undefined'],
    '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n');
  return bad ? `${bad} (Debian: apt-get install clang libclang-rt-14-dev)` : null;
}

/** The table's shapes, framed as the driver reads them (4-byte length, bytes). */
function corpusFile(): string {
  const file = path.join(tmp, 'shapes.bin');
  fs.writeFileSync(file, Buffer.concat(httpShapes.flatMap((s) => {
    const b = shapeBytes(s);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    return [len, b];
  })));
  return file;
}

function expectClean(r: { status: number | null; stdout: string; stderr: string }): void {
  const out = `${r.stdout}\n${r.stderr}`;
  expect(out, out.slice(-4000)).not.toMatch(/FUZZ INVARIANT BROKEN|ERROR: AddressSanitizer|runtime error:|ERROR: libFuzzer|deadly signal/);
  expect(r.status, out.slice(-4000)).toBe(0);
}

const whyNoAsan = noAsan();

describe.skipIf(whyNoAsan !== null)(`fuzzing the parser with the C driver under ASan${whyNoAsan ? ` (skipped: ${whyNoAsan})` : ''}`, () => {
  it(`finds nothing in ${DRIVER_SECONDS} s of random and mutated requests`, () => {
    make(['http-fuzz']);
    const seed = process.env.TRESTY_FUZZ_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
    const r = run(`${httpBuild}/fuzz_driver`, [String(DRIVER_SECONDS), seed, corpusFile()], (DRIVER_SECONDS + 60) * 1000, undefined, true);
    expectClean(r);
    expect(r.stdout, `seed ${seed}`).toMatch(/^ok \d+ inputs in [\d.]+ s \(seed \d+\)$/m);
    const execs = Number(/^ok (\d+)/m.exec(r.stdout)![1]);
    expect(execs).toBeGreaterThan(httpShapes.length);
  }, (DRIVER_SECONDS + 120) * 1000);
});

const whyNoLibFuzzer = whyNoAsan ?? noLibFuzzer();

describe.skipIf(whyNoLibFuzzer !== null)(`fuzzing the parser with libFuzzer${whyNoLibFuzzer ? ` (skipped: ${whyNoLibFuzzer})` : ''}`, () => {
  it(`finds nothing in ${LIBFUZZER_SECONDS} s`, () => {
    make(['http-libfuzzer']);
    const corpus = path.join(tmp, 'corpus');
    fs.mkdirSync(corpus);
    httpShapes.forEach((s, i) => fs.writeFileSync(path.join(corpus, `shape-${i}`), shapeBytes(s)));
    const r = run(`${httpBuild}/fuzz_libfuzzer`, [`-max_total_time=${LIBFUZZER_SECONDS}`, '-max_len=3000', `-artifact_prefix=${tmp}/`, corpus], (LIBFUZZER_SECONDS + 60) * 1000, undefined, true);
    expectClean(r);
    expect(r.stderr).toMatch(/Done \d+ runs/);
  }, (LIBFUZZER_SECONDS + 120) * 1000);
});
