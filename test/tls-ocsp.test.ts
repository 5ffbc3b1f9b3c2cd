// ssl_stapling on without ssl_stapling_file: tresty asks the OCSP responder, as nginx 1.22 does
// (observed; the same expectations run on nginx where it is installed). Real parts: `openssl
// ocsp` responders for a CA (good / revoked leaves) and for a signer the CA never certified, a
// node:http responder that answers 500, garbage or a response for another certificate, and
// handshakes asking for a staple (status_request). The first handshake gets none (the fetch starts
// then, the handshake does not wait), later ones get the response while it is good; revoked, dead,
// 500, garbage, another certificate's and an unverifiable response are not stapled and are logged
// in nginx's words. The refresh runs with TRESTY_STAPLING_TIMES shortening nginx's 5 min / 1 h.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { ocspFixture } from './helpers/ocsp-fixture.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { opensslMissing as missing, stapled } from './helpers/tls-files.js';
import { eventually } from './helpers/upstream.js';

const noNginx = nginxMissing();
const fx = ocspFixture('tls-ocsp');
const { file, port, described } = fx;

beforeAll(async () => { if (!missing) await fx.setup(); });
afterAll(() => { fx.teardown(); });

/** The servers, each with its own copy of its certificate file (the log lines name it). */
const CASES = {
  good: { cert: 'good', extra: 'ssl_stapling_verify on; ssl_trusted_certificate CA;' },
  revoked: { cert: 'rev', extra: '' },
  dead: { cert: 'good', extra: 'ssl_stapling_responder http://127.0.0.1:DEAD/;' },
  status500: { cert: 'good', extra: 'ssl_stapling_responder http://127.0.0.1:BAD/500/;' },
  garbage: { cert: 'good', extra: 'ssl_stapling_responder http://127.0.0.1:BAD/garbage/;' },
  another: { cert: 'good', extra: 'ssl_stapling_responder http://127.0.0.1:BAD/other/;' },
  unverified: { cert: 'good', extra: 'ssl_stapling_verify on; ssl_trusted_certificate CA; ssl_stapling_responder http://127.0.0.1:EVIL/;' },
  noverify: { cert: 'good', extra: 'ssl_stapling_responder http://127.0.0.1:EVIL/;' },
} as const;
type Case = keyof typeof CASES;

async function servers(): Promise<{ text: string; ports: Record<Case, number> }> {
  const ports = {} as Record<Case, number>;
  let text = '';
  for (const [name, c] of Object.entries(CASES) as Array<[Case, (typeof CASES)[Case]]>) {
    ports[name] = await freePort();
    fs.copyFileSync(file(`${c.cert}.pem`), file(`${name}-chain.pem`));
    const extra = c.extra.replace('CA;', `${file('ca.crt')};`).replace('DEAD', String(port.dead)).replace('BAD', String(port.bad))
      .replace('EVIL', String(port.evil));
    text += `  server { listen 127.0.0.1:${ports[name]} ssl; ssl_certificate ${file(`${name}-chain.pem`)}; ssl_certificate_key ${file(`${c.cert}.key`)};
    ssl_stapling on; ${extra} location / { return 200 "${name}\\n"; } }\n`;
  }
  return { text, ports };
}

/** Handshakes until one gets a staple (the first starts the fetch); null if none came in time. */
async function staple(p: number, timeoutMs = 5000): Promise<Buffer | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await stapled(p);
    if (Buffer.isBuffer(r)) return r;
    if (typeof r === 'string') throw new Error(r);
    if (Date.now() > deadline) return null;
    await new Promise((res) => setTimeout(res, 100));
  }
}

function shared(name: string, up: () => Promise<{ ports: Record<Case, number>; log: () => string }>, nginx = false): void {
  describe(name, () => {
    let p = {} as Record<Case, number>;
    let log: () => string = () => '';
    beforeAll(async () => { ({ ports: p, log } = await up()); });
    const failed = async (c: Case, line: RegExp): Promise<void> => {
      expect(await stapled(p[c])).toBeNull(); // the first asks, and waits for nothing
      const re = new RegExp(`\\[error\\] .*${line.source} while requesting certificate status, responder: 127\\.0\\.0\\.1, peer: 127\\.0\\.0\\.1:\\d+, certificate: ".*${c}-chain\\.pem"`);
      expect(await eventually(log, re)).toMatch(re);
      expect(await stapled(p[c])).toBeNull();
    };

    it('staples the responder\'s good response from the second handshake on, verified with ssl_trusted_certificate', async () => {
      expect(await stapled(p.good)).toBeNull();
      const r = await staple(p.good);
      expect(r).not.toBeNull();
      expect(described(r!).status).toBe('good');
      expect(await stapled(p.good, false)).toBeNull(); // to a client that asks only
    });

    it('does not staple a revoked certificate\'s response (nginx 1.22 neither)', async () => {
      await failed('revoked', /certificate status "revoked" in the OCSP response/);
    });

    it('a dead responder: no staple, a line, handshakes go on', async () => {
      await failed('dead', nginx ? /(connect|recv)\(\) failed \(111: Connection refused\)/ : /recv\(\) failed \(111: Connection refused\)/);
    });

    it.runIf(!nginx)('a 500: no staple, a line (nginx 1.22 logs none)', async () => {
      await failed('status500', /OCSP responder sent unexpected status 500/);
    });

    it('garbage: no staple, OpenSSL\'s reason', async () => {
      await failed('garbage', /d2i_OCSP_RESPONSE\(\) failed \(SSL: .*asn1.*\)/);
    });

    it('a response for another certificate: no staple', async () => {
      await failed('another', /certificate status not found in the OCSP response/);
    });

    it('ssl_stapling_verify on: a response signed by a key the CA never certified is not stapled; off: it is', async () => {
      await failed('unverified', /OCSP_basic_verify\(\) failed \(SSL: .*\)/);
      const r = await staple(p.noverify);
      expect(r).not.toBeNull();
      expect(described(r!).status).toBe('good');
    });
  });
}

for (const front of ['native', 'node'] as const) {
  describe.skipIf(missing !== null)(`ssl_stapling fetching on the ${front} front${missing ? ` (skipped: ${missing})` : ''}`, () => {
    let t: TrestyProcess;
    afterAll(async () => { await t?.stop(); });
    shared('tresty', async () => {
      const s = await servers();
      t = await startTresty(`worker_processes 1;\nerror_log logs/error.log info;\nevents {}\nhttp {\n  access_log off;\n${s.text}\n}\n`,
        { env: front === 'node' ? { TRESTY_TLS_ENGINE: 'node' } : {} });
      return { ports: s.ports, log: () => t.errorLog() };
    });

    it('is served by the expected TLS stack', async () => {
      expect(await eventually(() => t.errorLog(), /TLS on /)).toContain(front === 'native' ? ': native engine' : ': node:tls');
    });
  });

  describe.skipIf(missing !== null)(`ssl_stapling with ssl_certificate_by_js on the ${front} front${missing ? ` (skipped: ${missing})` : ''}`, () => {
    let t: TrestyProcess;
    afterAll(async () => { await t?.stop(); });

    it('a handler that keeps the conf\'s certificate: the conf\'s staple, as nginx (its status callback is the SSL_CTX\'s)', async () => {
      const p = await freePort();
      t = await startTresty(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;
  server { listen 127.0.0.1:${p} ssl; ssl_certificate ${file('good.pem')}; ssl_certificate_key ${file('good.key')}; ssl_stapling on;
    ssl_certificate_by_js_block { await ngx.sleep(0.001); }
    location / { return 200; } }\n}\n`, { env: front === 'node' ? { TRESTY_TLS_ENGINE: 'node' } : {} });
      const r = await staple(p);
      expect(r).not.toBeNull();
      expect(described(r!).status).toBe('good');
    });
  });

  describe.skipIf(missing !== null)(`ssl_stapling refresh on the ${front} front${missing ? ` (skipped: ${missing})` : ''}`, () => {
    let t: TrestyProcess;
    afterAll(async () => { await t?.stop(); });

    it('fetches again once the refresh time is past (here 2 s), and staples the newer response', async () => {
      const p = await freePort();
      t = await startTresty(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;
  server { listen 127.0.0.1:${p} ssl; ssl_certificate ${file('good.pem')}; ssl_certificate_key ${file('good.key')}; ssl_stapling on;
    location / { return 200; } }\n}\n`, { env: { TRESTY_STAPLING_TIMES: '1,2', ...(front === 'node' ? { TRESTY_TLS_ENGINE: 'node' } : {}) } });
      const first = await staple(p);
      expect(first).not.toBeNull();
      const before = described(first!).thisUpdate;
      await new Promise((r) => setTimeout(r, 3100));
      // this handshake starts the refresh (and still gets the old response): later ones get the new
      expect(await stapled(p)).toEqual(first);
      const deadline = Date.now() + 5000;
      let now = before;
      while (now === before && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        const r = await stapled(p);
        if (Buffer.isBuffer(r)) now = described(r).thisUpdate;
      }
      expect(now).not.toBe(before);
    });
  });
}

describe.skipIf(missing !== null || noNginx !== null)(`the same on nginx${noNginx ? ` (skipped: ${noNginx})` : ''}`, () => {
  let n: Nginx;
  afterAll(async () => { await n?.stop(); });
  shared('nginx 1.22', async () => {
    const s = await servers();
    n = await startNginx('location / { return 200; }', s.text);
    return { ports: s.ports, log: () => n.errorLog() };
  }, true);
});

/** A conf whose certificates nginx will not staple: a [warn] each at start, and the server goes on. */
async function unstapleable(): Promise<{ text: string; port: number }> {
  const port = await freePort();
  const srv = (cert: string, key: string, extra = ''): string =>
    `  server { listen 127.0.0.1:${port} ssl; server_name ${cert}; ssl_certificate ${file(cert)}; ssl_certificate_key ${file(key)}; ssl_stapling on; ${extra} location / { return 200 "ok\\n"; } }\n`;
  return {
    port,
    text: srv('evil.crt', 'evil.key') + srv('noaia.pem', 'noaia.key') + srv('good.pem', 'good.key', 'ssl_stapling_responder https://127.0.0.1/;'),
  };
}

const WARNINGS = [
  /\[warn\] .*"ssl_stapling" ignored, issuer certificate not found for certificate ".*evil\.crt"/,
  /\[warn\] .*"ssl_stapling" ignored, no OCSP responder URL in the certificate ".*noaia\.pem"/,
  /\[warn\] .*"ssl_stapling" ignored, invalid URL prefix in OCSP responder "https:\/\/127\.0\.0\.1\/" in the certificate ".*good\.pem"/,
];

describe.skipIf(missing !== null)(`certificates ssl_stapling cannot staple${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('tresty: nginx\'s [warn] for each at start, once, and the server serves', async () => {
    const u = await unstapleable();
    const t = await startTresty(`worker_processes 2;\nerror_log logs/error.log info;\nevents {}\nhttp {\n  access_log off;\n${u.text}}\n`);
    try {
      const log = await eventually(() => t.errorLog(), WARNINGS[2]!);
      for (const w of WARNINGS) expect(log.split('\n').filter((l) => w.test(l))).toHaveLength(1);
      expect(await stapled(u.port)).toBeNull();
    } finally {
      await t.stop();
    }
  });

  it.skipIf(noNginx !== null)('nginx 1.22: the same lines', async () => {
    const u = await unstapleable();
    const n = await startNginx('location / { return 200; }', u.text);
    try {
      const log = n.errorLog();
      for (const w of WARNINGS) expect(log).toMatch(w);
    } finally {
      await n.stop();
    }
  });
});
