// rewrite_log on: nginx's notice lines for each regex of the rewrite script (`rewrite` and `if`):
// `"RE" matches "SUBJECT"` / `"RE" does not match "SUBJECT"`, then `rewritten data: "URI", args:
// "ARGS"` or `rewritten redirect: "URL"`, with the request's context. The flag is the location's
// (the server's for the server's script): one set inside an `if` changes nothing, as on nginx.
// The same conf runs on tresty (both engines) and nginx + lua; the lines must be the same. Before,
// tresty refused rewrite_log as an unknown directive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, httpGet, oneServerConf, startTresty, type TrestyProcess } from './helpers/server.js';

const SERVER = `
    rewrite_log on;
    rewrite ^/old(.*)$ /new$1 last;
    rewrite ^/nomatch /x;
    location /new { rewrite ^/new/(.*)$ /final/$1?a=b break; return 200 "$uri $args\\n"; }
    location /r { rewrite ^ http://example.com/z redirect; }
    location /a { if ($arg_x ~* ^Y(.)) { return 200 "m $1\\n"; } if ($uri !~ ^/a/z) { return 200 "nz\\n"; } return 200 "end\\n"; }
    location /b { rewrite_log off; if ($arg_q) { rewrite_log on; rewrite ^/b(.*) /c$1?; } rewrite ^/b /zz; return 200 "$uri $args\\n"; }`;

const ASKS = ['/old/abc?z=1', '/r', '/a?x=yes', '/a/q', '/a/z', '/b1?q=1', '/b1'];

/** Each request's notice lines, by the path asked, without the time, pid and connection number. */
async function linesOf(port: number, log: () => string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const a of ASKS) {
    const mark = log().length;
    await httpGet(port, a);
    // the last line of each request comes from the same pass as its answer; wait for quiet
    await new Promise((r) => setTimeout(r, 100));
    out[a] = log().slice(mark).split('\n').filter((l) => l.includes('[notice]') && l.includes('client:'))
      .map((l) => l.replace(/^.*\[notice\] \d+#\d+: \*\d+ /, '').replace(/, host: "[^"]*"$/, ''));
  }
  return out;
}

const EXPECTED: Record<string, string[]> = {
  '/old/abc?z=1': [
    '"^/old(.*)$" matches "/old/abc", client: 127.0.0.1, server: localhost, request: "GET /old/abc?z=1 HTTP/1.1"',
    'rewritten data: "/new/abc", args: "z=1", client: 127.0.0.1, server: localhost, request: "GET /old/abc?z=1 HTTP/1.1"',
  ],
  '/r': [
    '"^/old(.*)$" does not match "/r", client: 127.0.0.1, server: localhost, request: "GET /r HTTP/1.1"',
    '"^/nomatch" does not match "/r", client: 127.0.0.1, server: localhost, request: "GET /r HTTP/1.1"',
    '"^" matches "/r", client: 127.0.0.1, server: localhost, request: "GET /r HTTP/1.1"',
    'rewritten redirect: "http://example.com/z", client: 127.0.0.1, server: localhost, request: "GET /r HTTP/1.1"',
  ],
};

function check(get: () => { port: number; log: () => string }): void {
  it('logs each regex and each rewrite as nginx does', async () => {
    const { port, log } = get();
    const got = await linesOf(port, log);
    expect(got['/old/abc?z=1']!.slice(0, 2)).toEqual(EXPECTED['/old/abc?z=1']);
    // the location's rewrite after `last`: matched and rewritten with its args first
    expect(got['/old/abc?z=1']!.slice(2).map((l) => l.replace(/, client: .*$/, ''))).toEqual([
      '"^/new/(.*)$" matches "/new/abc"', 'rewritten data: "/final/abc", args: "a=b&z=1"',
    ]);
    expect(got['/r']).toEqual(EXPECTED['/r']);
    const short = (k: string): string[] => got[k]!.map((l) => l.replace(/, client: .*$/, ''));
    const server = ['"^/old(.*)$" does not match', '"^/nomatch" does not match'];
    expect(short('/a?x=yes')).toEqual([`${server[0]} "/a"`, `${server[1]} "/a"`, '"^Y(.)" matches "yes"']);
    expect(short('/a/q')).toEqual([`${server[0]} "/a/q"`, `${server[1]} "/a/q"`, '"^Y(.)" does not match ""', '"^/a/z" does not match "/a/q"']);
    expect(short('/a/z')).toEqual([`${server[0]} "/a/z"`, `${server[1]} "/a/z"`, '"^Y(.)" does not match ""', '"^/a/z" matches "/a/z"']);
    // rewrite_log off in /b: the server's lines only, the if's own `on` changes nothing
    expect(short('/b1?q=1')).toEqual([`${server[0]} "/b1"`, `${server[1]} "/b1"`]);
    expect(short('/b1')).toEqual([`${server[0]} "/b1"`, `${server[1]} "/b1"`]);
  });
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'rewrite_log'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`error_log logs/error.log info;\n${oneServerConf(port, `server_name localhost;${SERVER}`)}`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    check(() => ({ port, log: () => t.errorLog() }));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`rewrite_log on nginx + lua${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(`server_name localhost;${SERVER}`); });
  afterAll(async () => { await n?.stop(); });
  check(() => ({ port: n.port, log: () => n.errorLog() }));
});
