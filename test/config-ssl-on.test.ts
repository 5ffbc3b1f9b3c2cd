// The deprecated `ssl on;` that older OpenResty confs still carry (nginx 1.22 takes it with a
// warning): the server's listens are TLS. Before, tresty refused it as an unknown directive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confErrorOf, loadConfText, serverConf } from './helpers/conf-load.js';
import { nginxConfError, nginxConfWarnings, nginxMissing } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { bodyOf, opensslMissing, tlsAsk, tlsFiles } from './helpers/tls-files.js';

const load = (conf: string) => loadConfText(conf, { inConf: true });
const errorOf = (conf: string) => confErrorOf(conf, { inConf: true });
const WARN = 'the "ssl" directive is deprecated, use the "listen ... ssl" directive instead';

const certs = tlsFiles('sslon');
if (opensslMissing === null) certs.selfSigned('c', 'a.test');
afterAll(() => certs.remove());
const pair = (): string => `ssl_certificate ${certs.file('c.crt')}; ssl_certificate_key ${certs.file('c.key')};`;

describe.skipIf(opensslMissing !== null)(`ssl on${opensslMissing ? ` (skipped: ${opensslMissing})` : ''}`, () => {
  it('makes the server\'s listens TLS, in the server or inherited from http, with nginx\'s warning', () => {
    const c = load(serverConf(`ssl on; ${pair()}`));
    expect(c.http!.servers[0]!.listen.map((l) => l.ssl)).toEqual([true]);
    expect(c.warnings).toEqual([expect.stringMatching(new RegExp(`^${WARN.replace(/[."]/g, '\\$&')} in \\S+nginx\\.conf:3$`))]);
    const h = load(`events {} http { ssl on; ${pair()}\nserver { listen 127.0.0.1:8080; }\nserver { listen 127.0.0.1:8081; ssl off; } }`);
    expect(h.http!.servers.map((s) => s.listen[0]!.ssl ?? false)).toEqual([true, false]);
    expect(h.warnings.length).toBe(2);
    expect(load(serverConf('ssl off;')).http!.servers[0]!.listen[0]!.ssl).toBeUndefined();
  });

  it('without a certificate, or with a bad value: nginx\'s errors', () => {
    expect(errorOf(serverConf('ssl on;')).message).toMatch(/^no "ssl_certificate" is defined for the "ssl" directive in \S+nginx\.conf:3$/);
    expect(errorOf(serverConf('ssl yes;')).message).toMatch(/^invalid value "yes" in "ssl" directive, it must be "on" or "off" in /);
  });

  it.skipIf(nginxMissing() !== null)('nginx -t says the same', () => {
    expect(nginxConfWarnings(`ssl on; ${pair()}`)).toEqual([WARN]);
    expect(nginxConfError('ssl on;')).toMatch(/no "ssl_certificate" is defined for the "ssl" directive/);
  });

  describe('served', () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`error_log logs/error.log info;\nevents {}\nhttp { server { listen 127.0.0.1:${port}; ssl on; ${pair()} location / { return 200 "tls\\n"; } } }\n`);
    });
    afterAll(async () => { await t?.stop(); });

    it('over TLS, and the warning is in the error log', async () => {
      expect(bodyOf(await tlsAsk(port, { servername: 'a.test', rejectUnauthorized: false }))).toBe('tls\n');
      expect(t.errorLog()).toContain(`[warn]`);
      expect(t.errorLog()).toContain(WARN);
    });
  });
});
