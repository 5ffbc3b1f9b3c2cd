// The request-smuggling / bad-request table (test/fixtures/http-refusals.ts) against
//  - the C parser (native/http, through native/http/test/check_shapes.c under ASan): it must
//    answer every shape with nginx's statuses, close the connection when nginx does, and log
//    the refusal in nginx's words;
//  - real nginx, when installed: the recorded answers must still be what nginx answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpShapes, NGINX_SERVER, shapeBytes, type HttpShape } from './fixtures/http-refusals.js';
import { httpBuild, make, noCompiler, run } from './helpers/native-http.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { sendRaw } from './helpers/raw-http.js';

describe('the refusal table', () => {
  it('names each shape once', () => {
    const names = httpShapes.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });
});

const noCc = noCompiler();

describe.skipIf(noCc !== null)(`the C parser answers each shape as nginx${noCc ? ` (skipped: ${noCc})` : ''}`, () => {
  const answers = new Map<string, { statuses: number[]; close: boolean; http09: boolean; reason: string }>();

  beforeAll(() => {
    make(['http-test']);
    const frames = httpShapes.map((s) => {
      const b = shapeBytes(s);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      return Buffer.concat([len, b]);
    });
    const r = run(`${httpBuild}/check_shapes`, [], 60_000, Buffer.concat(frames));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(httpShapes.length);
    lines.forEach((line, i) => {
      const m = /^statuses=([\d,]*) close=(\d) http09=(\d) reason=(.*)$/.exec(line);
      if (!m) throw new Error(`check_shapes printed ${line}`);
      answers.set(httpShapes[i].name, {
        statuses: m[1] ? m[1].split(',').map(Number) : [],
        close: m[2] === '1',
        http09: m[3] === '1',
        reason: m[4],
      });
    });
  }, 120_000);

  for (const shape of httpShapes) {
    it(shape.name, () => {
      const a = answers.get(shape.name)!;
      expect({ statuses: a.statuses, close: a.close, http09: a.http09 }).toEqual({
        statuses: shape.statuses, close: shape.close, http09: shape.http09 ?? false,
      });
      const refused = shape.statuses.some((s) => s >= 400);
      if (refused && shape.log) expect(shape.log.startsWith(a.reason), `nginx logged "${shape.log}", the parser "${a.reason}"`).toBe(true);
    });
  }
});

const noNginx = nginxMissing();

describe.skipIf(noNginx !== null)(`real nginx still answers as the table says${noNginx ? ` (skipped: ${noNginx})` : ''}`, () => {
  let nginx: Nginx;
  const seen = new Map<string, { statuses: number[]; close: boolean; http09: boolean }>();

  beforeAll(async () => {
    nginx = await startNginx(NGINX_SERVER);
    // a few connections at a time: most answers are immediate, keep-alive ones wait ~250 ms
    const queue = [...httpShapes];
    const worker = async (): Promise<void> => {
      for (let s: HttpShape | undefined; (s = queue.shift()); ) {
        const a = await sendRaw(nginx.port, shapeBytes(s), { answers: s.statuses.length });
        seen.set(s.name, { statuses: a.statuses, close: a.closed, http09: a.http09 });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }, 120_000);

  afterAll(async () => { await nginx?.stop(); });

  for (const shape of httpShapes) {
    it(shape.name, () => {
      expect(seen.get(shape.name)).toEqual({ statuses: shape.statuses, close: shape.close, http09: shape.http09 ?? false });
    });
  }
});
