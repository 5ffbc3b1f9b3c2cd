// The parts of autoindex's bytes that the compat test cannot make with small files in a temp
// folder: sizes in G, rounding at each boundary, autoindex_localtime (the process's TZ), names
// cut inside a UTF-8 sequence (nginx cuts bytes). The listing as a whole is test/compat-autoindex.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { type Entry, html } from '../src/phases/autoindex-format.js';

const T = Date.UTC(2026, 11, 1, 23, 30); // 01-Dec-2026 23:30 UTC
const file = (name: string, size: number): Entry => ({ name, kind: 'file', mtimeMs: T, size });

/** The line of the one entry, without its CRLF. */
function lineOf(e: Entry, o = { exactSize: false, localtime: false }): string {
  return html('/', [e], o).split('\r\n')[4]!;
}

describe('autoindex html columns', () => {
  const tz = process.env.TZ;
  afterEach(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  });

  it('rounded sizes: bytes up to 9999, then K, M, G, half up', () => {
    const size = (n: number): string => lineOf(file('f', n)).slice(-7);
    expect(size(9999)).toBe('   9999');
    expect(size(10000)).toBe('    10K');
    expect(size(10240 + 511)).toBe('    10K');
    expect(size(10240 + 512)).toBe('    11K');
    expect(size(1024 * 1024 - 1)).toBe('  1024K');
    expect(size(1024 * 1024)).toBe('     1M');
    expect(size(1.5 * 1024 * 1024)).toBe('     2M');
    expect(size(1024 ** 3 - 1)).toBe('  1024M');
    expect(size(1.5 * 1024 ** 3)).toBe('     2G');
    expect(size(5000 * 1024 ** 3)).toBe('  5000G');
  });

  it('exact sizes are 19 wide; dates are UTC unless autoindex_localtime', () => {
    expect(lineOf(file('f', 5 * 1024 ** 3), { exactSize: true, localtime: false })).toMatch(/ 01-Dec-2026 23:30 {10}5368709120$/);
    process.env.TZ = 'Asia/Tokyo';
    expect(lineOf(file('f', 1), { exactSize: true, localtime: true })).toContain(' 02-Dec-2026 08:30 ');
    expect(lineOf(file('f', 1), { exactSize: true, localtime: false })).toContain(' 01-Dec-2026 23:30 ');
  });

  it('a long UTF-8 name is cut at byte 47, even inside a character, as nginx without charset does', () => {
    const name = Buffer.from('é'.repeat(30)).toString('latin1'); // 60 bytes
    const l = lineOf(file(name, 1));
    const shown = l.split('">')[1]!.split('..&gt;')[0]!;
    expect(shown.length).toBe(47);
    expect(Buffer.from(shown, 'latin1')[46]).toBe(0xc3);
  });
});
