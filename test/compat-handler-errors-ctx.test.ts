// A handler's error lines outside a request, on tresty and on nginx + lua-nginx-module with the
// same expectations (`js` for `lua`, tresty's code closing the first line): a timer's run and an
// ssl_certificate_by_* run are fake connections with their own `*N` (numbered with the real ones,
// so no two share one) and nginx's context; init_by_*'s throw or a block that does not compile
// is an `[error]` line on stderr and in the error log, and the start fails with status 1.
// The throw of each request phase is compat-handler-errors.test.ts's.
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { abortedEntry, timerTail } from './helpers/handler-errors.js';
import { nginxMissing, nginxStartFailure, startNginx } from './helpers/nginx.js';
import { confFor, errorLogOf } from './helpers/phases-harness.js';
import { freePort, httpGet, makePrefix, runTresty, startTresty } from './helpers/server.js';
import { opensslMissing, tlsFiles } from './helpers/tls-files.js';
import { eventually } from './helpers/upstream.js';

const noNginx = nginxMissing() !== null;

/** A server's error log, read as it grows. */
interface Logged { port: number; errorLog(): string; stop(): Promise<void> }

/** Tresty (`js`) or nginx (`lua`) with `server` in its one server and `http` at the http level. */
async function start(lang: 'js' | 'lua', server: (lang: string) => string, http = (_: string): string => ''): Promise<Logged> {
  if (lang === 'lua') return startNginx(`server_name localhost; ${server('lua')}`, http('lua'));
  const port = await freePort();
  const t = await startTresty(confFor(port, { http: http('js') }, [{ name: 'x', requests: [], conf: server('js') }]));
  return { port, errorLog: () => errorLogOf(t), stop: () => t.stop() };
}

/** `js` with the code, `lua` without: the forms to check. */
const forms: Array<['js' | 'lua', boolean]> = [['js', true], ['lua', false]];

describe.each(forms)('timers (%s): each run a fake connection of its own', (lang, code) => {
  const skip = lang === 'lua' && noNginx;
  const log = (name: string): string => `ngx.log(ngx.ERR, "${name}")`;
  const timer = (body: string): string => (lang === 'js' ? `ngx.timer.at(0, () => { ${body}; });` : `ngx.timer.at(0, function() ${body} end)`);

  it.skipIf(skip)('one made in init_worker: `*N`, `context: ngx.timer`, no client and no server (init_worker\'s own ngx.log: its `*N` and context; a later request another number)', async () => {
    const throwIt = lang === 'js' ? 'throw new Error("he-iwt boom")' : 'error("he-iwt boom")';
    const say = lang === 'js' ? 'ngx.say("ok");' : 'ngx.say("ok")';
    const s = await start(lang, (l) => `location = /he-iwr { content_by_${l}_block { ${log('he-iw req')}; ${say} } }`,
      (l) => `init_worker_by_${l}_block { ${log('he-iw log')}; ${timer(`${log('he-iwt log')}; ${throwIt}`)} }`);
    try {
      const text = await eventually(() => s.errorLog(), /he-iwt boom[^]*context: ngx\.timer\n/);
      expect(text).toMatch(new RegExp(`\\[error\\] \\d+#\\d+: \\*\\d+ \\[${lang}\\] \\S+ he-iwt log, context: ngx\\.timer\\n`));
      const iw = new RegExp(`\\[error\\] (\\d+)#\\d+: \\*(\\d+) \\[${lang}\\] \\S+ he-iw log, context: init_worker_by_${lang}\\*\\n`).exec(text);
      expect(iw, text).not.toBeNull();
      expect(text).toMatch(abortedEntry(lang, code, 'he-iwt boom', `${timerTail(false)}`));
      // The request's connection is numbered after init_worker's fake one, in the same worker
      // (one worker: the engine's counter and the one before it are one sequence).
      expect((await httpGet(s.port, '/he-iwr')).status).toBe(200);
      const all = await eventually(() => s.errorLog(), /he-iw req/);
      const req = new RegExp(`\\[error\\] (\\d+)#\\d+: \\*(\\d+) \\[${lang}\\] \\S+ he-iw req, client: `).exec(all);
      expect(req, all).not.toBeNull();
      if (req![1] === iw![1]) expect(Number(req![2])).toBeGreaterThan(Number(iw![2]));
      expect(Number(req![2])).toBeLessThan(1000);
    } finally { await s.stop(); }
  });

  it.skipIf(skip)('ones made in a request (or in its timer): the request\'s client and listen address, numbers none other has', async () => {
    const say = lang === 'js' ? 'ngx.say("ok");' : 'ngx.say("ok")';
    const s = await start(lang, (l) => `location = /he-nums { content_by_${l}_block { ${log('he-nums req')}; ${timer(log('he-nums t1'))} ${timer(log('he-nums t2'))} ${timer(timer(log('he-nums t3')))} ${say} } }`);
    try {
      expect((await httpGet(s.port, '/he-nums')).status).toBe(200);
      const text = await eventually(() => s.errorLog(), /^(?=[^]*he-nums t1)(?=[^]*he-nums t2)(?=[^]*he-nums t3)/);
      const numberOf = (name: string, tail: string): string => {
        const m = new RegExp(`\\[error\\] \\d+#\\d+: \\*(\\d+) \\[${lang}\\] \\S+ ${name}${tail}\\n`).exec(text);
        expect(m, `${name}'s line in\n${text}`).not.toBeNull();
        return m![1]!;
      };
      const req = numberOf('he-nums req', `, client: 127\\.0\\.0\\.1, server: localhost, request: "GET /he-nums HTTP/1\\.1", host: "[^"]+"`);
      const t1 = numberOf('he-nums t1', timerTail(true, String(s.port)));
      const t2 = numberOf('he-nums t2', timerTail(true, String(s.port)));
      const t3 = numberOf('he-nums t3', timerTail(true, String(s.port)));
      expect(new Set([req, t1, t2, t3]).size).toBe(4);
      // nginx's small numbers, from one counter (not a range of JS's own above the engine's)
      for (const n of [req, t1, t2, t3]) expect(Number(n)).toBeLessThan(1000);
    } finally { await s.stop(); }
  });
});

describe.skipIf(opensslMissing !== null)('ssl_certificate_by_*: a throw is the entry thread aborting on a fake connection', () => {
  const files = tlsFiles('errctx');
  afterAll(() => files.remove());
  const server = (port: number, l: string): string => {
    if (!fs.existsSync(files.file('c.crt'))) files.selfSigned('c', 'localhost');
    const body = l === 'js' ? 'ngx.log(ngx.ERR, "he-cert log"); throw new Error("he-cert boom");' : 'ngx.log(ngx.ERR, "he-cert log") error("he-cert boom")';
    // A wildcard listen: nginx's `server:` is the listening socket, `0.0.0.0:PORT`, not the local address.
    return `listen ${port} ssl; ssl_certificate ${files.file('c.crt')}; ssl_certificate_key ${files.file('c.key')};
      ssl_certificate_by_${l}_block { ${body} } location = /x { return 204; }`;
  };
  /** A handshake that the handler fails. */
  const handshake = (port: number): Promise<void> => new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
  });
  /** nginx's words: the fake connection's `*N`, the context, the client (where known) and the listen address. */
  const expectLines = (text: string, lang: string, code: boolean, port: number, client: boolean): void => {
    const tail = `, context: ssl_certificate_by_${lang}\\*${client ? ', client: 127\\.0\\.0\\.1' : ''}, server: 0\\.0\\.0\\.0:${port}`;
    expect(text).toMatch(new RegExp(`\\[error\\] \\d+#\\d+: \\*\\d+ \\[${lang}\\] \\S+ he-cert log${tail}\\n`));
    expect(text).toMatch(abortedEntry(lang, code, 'he-cert boom', tail));
  };

  for (const front of ['native', 'node'] as const) {
    it(`on tresty (${front === 'native' ? 'the engine\'s TLS when built' : 'node:tls'}), with the code`, async () => {
      const port = await freePort();
      const tport = await freePort();
      const conf = confFor(port, {}, [{ name: 'x', requests: [], conf: '' }])
        .replace(/server \{/, `server { server_name tls.test; ${server(tport, 'js')} }\n  server {`);
      const t = await startTresty(conf, { env: front === 'node' ? { TRESTY_TLS_ENGINE: 'node' } : {} });
      try {
        await handshake(tport);
        const text = await eventually(() => errorLogOf(t), /he-cert boom[^]*context: ssl_certificate_by_js\*[^\n]*\n/);
        expectLines(text, 'js', true, tport, true);
      } finally { await t.stop(); }
    });
  }

  it.skipIf(noNginx)('on nginx + lua', async () => {
    const tport = await freePort();
    const n = await startNginx(`server_name localhost; ${server(tport, 'lua')}`);
    try {
      await handshake(tport);
      expectLines(await eventually(() => n.errorLog(), /he-cert boom[^]*context: ssl_certificate_by_lua\*[^\n]*\n/), 'lua', false, tport, true);
    } finally { await n.stop(); }
  });
});

describe('init_by_*: a throw or a block that does not compile is an [error] line, the start fails with status 1', () => {
  const cases = [
    { name: 'a throw', js: 'throw new Error("he-init boom");', lua: 'error("he-init boom")', msg: 'he-init boom', trace: true },
    { name: 'a syntax error', js: 'let he_init = = 1;', lua: 'local he_init = = 1', msg: '', trace: false },
    // `init_by_*_file error:`, the file's own line (tresty's loader imports it again on a reload: no `?query` of that in the line).
    { name: 'a throw in a file', file: true, js: 'export default () => {\n  throw new Error("he-init-file boom");\n};\n', lua: '\nerror("he-init-file boom")\n',
      msg: 'he-init-file boom', trace: true, where: 'he-init\\.(?:mjs|lua):2: ' },
  ];
  /** `PROG: [error] init_by_LANG error: WHERE: MSG[ (codes)]`, then the traceback or none. */
  const line = (prog: string, lang: string, c: { msg: string; trace: boolean; where?: string }, codes: string): RegExp => new RegExp(
    `${prog}\\[error\\] (?:\\d+#\\d+: )?init_by_${lang}${c.where !== undefined ? '_file' : ''} error: ${c.where !== undefined ? `/\\S+/${c.where}` : '\\S+:\\d+\\)?(?::\\d+)?: '}`
    + `[^\\n]*${c.msg}${codes}\\n${c.trace ? 'stack traceback:\\n' : '(?!stack traceback)'}`);

  for (const c of cases) {
    it(`${c.name}: on tresty, with the code(s)`, async () => {
      const prefix = c.file
        ? makePrefix(confFor(await freePort(), { http: 'init_by_js_file js/he-init.mjs;' }, []), { 'js/he-init.mjs': c.js })
        : makePrefix(confFor(await freePort(), { http: `init_by_js_block { ${c.js} }` }, []));
      try {
        const r = await runTresty(['-p', prefix, '-c', 'conf/nginx.conf'], { cwd: prefix, timeoutMs: 20_000 });
        const codes = c.trace ? ' \\(TRESTY_ERR_HANDLER\\)' : ' \\(TRESTY_ERR_HANDLER, TRESTY_ERR_CONF_HANDLER\\)';
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(line('^tresty: ', 'js', c, codes));
        expect(r.stderr).not.toMatch(/\[emerg\]/);
        expect(fs.readFileSync(path.join(prefix, 'logs/error.log'), 'utf8')).toMatch(line('', 'js', c, codes));
      } finally { fs.rmSync(prefix, { recursive: true, force: true }); }
    });
    it.skipIf(noNginx)(`${c.name}: on nginx + lua`, () => {
      const r = c.file
        ? nginxStartFailure('location = / { return 204; }', 'init_by_lua_file __PREFIX__/he-init.lua;', { 'he-init.lua': c.lua })
        : nginxStartFailure('location = / { return 204; }', `init_by_lua_block { ${c.lua} }`);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(line('^nginx: ', 'lua', c, ''));
      expect(r.stderr).not.toMatch(/\[emerg\]/);
      expect(r.errorLog).toMatch(line('', 'lua', c, ''));
    });
  }
});

describe('init_by_*: its ngx.log lines are written once (the master\'s run; tresty\'s re-run in each worker logs nothing)', () => {
  const count = (text: string): number => text.split('he-init once').length - 1;
  it('on tresty, 2 workers', async () => {
    const port = await freePort();
    const t = await startTresty(confFor(port, { workers: 2, http: 'init_by_js_block { ngx.log(ngx.ERR, "he-init once"); }' },
      [{ name: 'x', requests: [], conf: 'location = /x { content_by_js_block { ngx.log(ngx.ERR, "he-init req"); ngx.say("ok"); } }' }]));
    try {
      // Both workers have run init_by_js again by the time they serve; a request's line comes after.
      expect((await httpGet(port, '/x')).status).toBe(200);
      const text = await eventually(() => errorLogOf(t), /he-init req/);
      expect(text).toMatch(/\[error\] \d+#\d+: \[js\] \S+ he-init once\n/);
      expect(count(text)).toBe(1);
    } finally { await t.stop(); }
  });
  it.skipIf(noNginx)('on nginx + lua', async () => {
    const n = await startNginx('location = /x { return 204; }', 'init_by_lua_block { ngx.log(ngx.ERR, "he-init once") }');
    try {
      expect(count(n.errorLog())).toBe(1);
    } finally { await n.stop(); }
  });
});

describe('init_worker_by_*_file: "init_worker_by_*_file error:" and the file\'s own line', () => {
  const entry = (lang: string, code: boolean): RegExp => new RegExp(
    `\\[error\\] \\d+#\\d+: init_worker_by_${lang}_file error: /\\S+/he-iwf\\.(?:mjs|lua):2: [^\\n]*he-iwf boom${code ? ' \\(TRESTY_ERR_HANDLER\\)' : ''}\\nstack traceback:\\n`);
  it('on tresty, with the code', async () => {
    const t = await startTresty(confFor(await freePort(), { http: 'init_worker_by_js_file js/he-iwf.mjs;' }, []),
      { files: { 'js/he-iwf.mjs': 'export default () => {\n  throw new Error("he-iwf boom");\n};\n' } });
    try {
      expect(await eventually(() => errorLogOf(t), /he-iwf boom/)).toMatch(entry('js', true));
    } finally { await t.stop(); }
  });
  it.skipIf(noNginx)('on nginx + lua', async () => {
    const n = await startNginx('location = / { return 204; }', 'init_worker_by_lua_file __PREFIX__/he-iwf.lua;', { 'he-iwf.lua': '\nerror("he-iwf boom")\n' });
    try {
      expect(await eventually(() => n.errorLog(), /he-iwf boom/)).toMatch(entry('lua', false));
    } finally { await n.stop(); }
  });
});
