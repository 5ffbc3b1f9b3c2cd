// The HTTP/1.1 request parser's C unit tests (native/http/test/test_http.c): built and run as
// shipped (-O2) and under AddressSanitizer + UBSan. Each prints "ok N checks" or its failures.
import { describe, expect, it } from 'vitest';
import { httpBuild, make, noCompiler, run } from './helpers/native-http.js';

const why = noCompiler();

describe.skipIf(why !== null)(`HTTP parser C unit tests${why ? ` (skipped: ${why})` : ''}`, () => {
  it('builds the tests', () => {
    make(['http-test']);
  }, 120_000);

  for (const [name, bin] of [['optimised', 'test_http'], ['AddressSanitizer + UBSan', 'test_http_asan']] as const) {
    it(`passes every check (${name})`, () => {
      const r = run(`${httpBuild}/${bin}`);
      expect(r.stdout + r.stderr).toMatch(/^ok \d+ checks$/m);
      expect(r.stderr).not.toMatch(/Sanitizer|runtime error/);
      expect(r.status).toBe(0);
    });
  }
});
