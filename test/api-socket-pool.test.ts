// ngx.socket.tcp's connection pool (seen from the peer's side: helpers/socket-peer.ts counts
// the connections it accepts and sees closed), a socket across the phases of its request, in a
// timer and after its request, and a real redis-server spoken to in RESP by a small client
// written with ngx.socket in the conf.
import { afterAll, describe, expect, it } from 'vitest';
import { NO_REDIS, REDIS_BIN, RedisServer } from './helpers/redis.js';
import { freePort } from './helpers/server.js';
import { CONNECT, ECHO_LOCATION, socketSuite } from './helpers/socket-peer.js';

/** A RESP client on ngx.socket: what lua-resty-redis does, in a few lines. */
const RESP = `
export async function command(sock, ...args) {
  const req = ['*' + args.length + '\\r\\n'];
  for (const a of args) req.push('$' + Buffer.byteLength(a) + '\\r\\n', a, '\\r\\n');
  const [n, err] = await sock.send(req);
  if (n === null) return [null, err];
  const [line, e2] = await sock.receive();
  if (line === null) return [null, e2];
  const kind = line[0], rest = line.slice(1);
  if (kind === '+') return [rest, null];
  if (kind === '-') return [false, rest];
  if (kind === ':') return [Number(rest), null];
  if (kind === '$') {
    const len = Number(rest);
    if (len < 0) return [null, null];
    const [data, e3] = await sock.receive(len + 2);
    return data === null ? [null, e3] : [data.slice(0, -2), null];
  }
  return [null, 'unexpected reply ' + line];
}`;

let redis: RedisServer | null = null;

const LOCATIONS = `${ECHO_LOCATION}
    location = /pool {
      content_by_js_block {
        // n sockets at once in one pool, all put back: the pool keeps \`size\`, closes the rest.
        const n = Number(ngx.var.arg_n), size = Number(ngx.var.arg_size);
        const socks = [];
        for (let i = 0; i < n; i++) {
          const s = ngx.socket.tcp();
          const [ok, err] = await s.connect('127.0.0.1', PEER, { pool: 'p' + ngx.var.arg_name });
          if (!ok) { ngx.say('failed ', err); return; }
          await s.send('ECHO pool-' + ngx.var.arg_name + '\\n');
          await s.receive();
          socks.push(s);
        }
        const reused = socks.map((s) => s.getreusedtimes()[0]);
        for (const s of socks) s.setkeepalive(Number(ngx.var.arg_idle ?? 0), size);
        ngx.say(JSON.stringify(reused));
      }
    }
    location = /unread {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('ECHO one\\nECHO two\\n');
        await sock.receive();
        await ngx.sleep(0.1);
        const k = sock.setkeepalive();
        ngx.say(JSON.stringify([k, sock.getreusedtimes()]));
      }
    }
    location = /bye {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('BYE\\n');
        const r = await sock.receive();
        ngx.say(JSON.stringify([r, sock.getreusedtimes(), sock.setkeepalive()]));
      }
    }
    location = /backlog {
      content_by_js_block {
        // pool_size 1, backlog 1: a second connect waits for the first connection's return,
        // a third one is refused at once.
        const opts = { pool: 'bl', pool_size: 1, backlog: 1 };
        const a = ngx.socket.tcp(), b = ngx.socket.tcp(), c = ngx.socket.tcp();
        for (const s of [a, b, c]) s.settimeout(2000);
        await a.connect('127.0.0.1', PEER, opts);
        const bDone = b.connect('127.0.0.1', PEER, opts);
        const cRes = await c.connect('127.0.0.1', PEER, opts);
        await ngx.sleep(0.05);
        a.setkeepalive();
        const bRes = await bDone;
        ngx.say(JSON.stringify([cRes, bRes, b.getreusedtimes()]));
        b.close();
      }
    }
    location = /leak {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('ECHO leak\\n');
        await sock.receive();
        globalThis.leaked = sock;
        ngx.say('left open');
      }
    }
    location = /use-leaked {
      content_by_js_block {
        const r = [];
        for (const f of [() => globalThis.leaked.receive(), () => globalThis.leaked.close()]) {
          try { await f(); r.push('no throw'); } catch (e) { r.push(e.code + ': ' + e.message); }
        }
        ngx.say(JSON.stringify(r));
      }
    }
    location = /phases {
      rewrite_by_js_block { ngx.ctx.s = ngx.socket.tcp(); }
      access_by_js_block { const [ok] = await ngx.ctx.s.connect('127.0.0.1', PEER); ngx.ctx.ok = ok; }
      content_by_js_block {
        await ngx.ctx.s.send('ECHO phases\\n');
        ngx.say(ngx.ctx.ok, ' ', (await ngx.ctx.s.receive())[0]);
      }
      log_by_js_block {
        for (const f of [() => ngx.socket.tcp(), () => ngx.ctx.s.close()]) {
          try { f(); ngx.log(ngx.ERR, 'sock-in-log: no throw'); } catch (e) { ngx.log(ngx.ERR, 'sock-in-log: ', e.code, ' ', e.message); }
        }
      }
    }
    location = /timer {
      content_by_js_block {
        const [ok, err] = ngx.timer.at(0, async function () {
          const s = this.socket.tcp();
          s.settimeout(3000);
          const r = await s.connect('127.0.0.1', PEER);
          await s.send('ECHO from timer\\n');
          globalThis.timerResult = [r, await s.receive()];
          s.setkeepalive();
        });
        ngx.say(ok, ' ', err);
      }
    }
    location = /timer-result { content_by_js_block { ngx.say(JSON.stringify(globalThis.timerResult ?? null)); } }
    location = /redis {
      content_by_js_block {
        const { command } = await import('./resp.mjs');
        const [sock, err] = await ngx.socket.connect('127.0.0.1', ${'${REDIS}'});
        if (!sock) { ngx.say('redis connect failed: ', err); return; }
        sock.settimeout(2000);
        const a = ngx.var.arg_op === 'set'
          ? await command(sock, 'SET', ngx.var.arg_k, ngx.unescape_uri(ngx.var.arg_v))
          : await command(sock, 'GET', ngx.var.arg_k);
        ngx.say(JSON.stringify(a), ' reused=', sock.getreusedtimes()[0]);
        sock.setkeepalive(10000, 10);
      }
    }`;

const s = socketSuite(async () => {
  let redisPort = 1;
  if (REDIS_BIN) {
    redisPort = await freePort();
    redis = new RedisServer(redisPort);
    await redis.start();
  }
  return { locations: LOCATIONS.replaceAll('${REDIS}', String(redisPort)), files: { 'conf/resp.mjs': RESP } };
});
const { peer, body, json } = s;

afterAll(async () => {
  await redis?.stop();
});

describe('ngx.socket.tcp: the connection pool', () => {
  it('setkeepalive pools the connection; the next request reuses it (the peer sees one connection)', async () => {
    await body('/echo?keep=no'); // whatever was pooled before is not in the way
    const before = peer.opened;
    expect(await body('/echo?t=a')).toBe('7 nil [a] nil reused=0 kept=true nil');
    expect(await body('/echo?t=b')).toBe('7 nil [b] nil reused=1 kept=true nil');
    expect(await body('/echo?t=c&keep=no')).toBe('7 nil [c] nil reused=2 kept=true nil');
    expect(peer.opened - before).toBe(1);
  });

  it('a pool keeps at most its size; the rest are closed', async () => {
    const opened = peer.opened;
    expect(await json('/pool?n=3&size=2&name=a')).toEqual([0, 0, 0]);
    await peer.until(() => peer.closedWith('pool-a') === 1);
    expect(peer.opened - opened).toBe(3);
    // Two are pooled: the next three use them and open one more.
    expect(await json('/pool?n=3&size=2&name=a')).toEqual([1, 1, 0]);
    expect(peer.opened - opened).toBe(4);
  });

  it('an idle pooled connection is closed after the keepalive timeout', async () => {
    expect(await json('/pool?n=2&size=5&name=b&idle=200')).toEqual([0, 0]);
    await peer.until(() => peer.closedWith('pool-b') === 2, 5000);
    expect(await json('/pool?n=1&size=5&name=b')).toEqual([0]);
  });

  it('a pooled connection the peer closes is dropped from the pool', async () => {
    const r = await json('/bye') as unknown[];
    expect(r).toEqual([['bye', null, null], [0, null], [true, null]]);
    await peer.until(() => peer.closedWith('BYE') === 1);
    await new Promise((res) => setTimeout(res, 50));
    // The connection BYE closed must not be handed out: the next one under that key is new.
    expect(await body('/echo?t=fresh&keep=no')).toContain('reused=0');
  });

  // nginx + lua leaves the connection open (compat-cosocket-fuzz's pool cases).
  it('setkeepalive refuses a connection with unread data (it stays open)', async () => {
    expect(await json('/unread')).toEqual([[null, 'unread data in buffer'], [0, null]]);
  });

  it('backlog queues a connect over pool_size until a connection comes back', async () => {
    expect(await json('/backlog')).toEqual([[null, 'too many waiting connect operations'], [true, null], [1, null]]);
  });
});

describe('ngx.socket.tcp: phases and ownership', () => {
  it('a socket lives through the phases of its request; log_by_js may not use it', async () => {
    expect(await body('/phases')).toBe('true phases');
    await new Promise((r) => setTimeout(r, 200));
    const log = s.t().errorLog();
    expect(log).toContain('sock-in-log: TRESTY_ERR_API_DISABLED API disabled in the context of log_by_js*');
    expect(log).not.toContain('sock-in-log: no throw');
  });

  it('works in a timer', async () => {
    expect(await body('/timer')).toBe('true nil');
    let r: unknown = null;
    for (let i = 0; i < 50 && r === null; i++) {
      await new Promise((res) => setTimeout(res, 50));
      r = await json('/timer-result');
    }
    expect(r).toEqual([[true, null], ['from timer', null, null]]);
  });

  it('a socket left open is closed when its request ends, and another request cannot use it', async () => {
    expect(await body('/leak')).toBe('left open');
    await peer.until(() => peer.closedWith('leak') === 1);
    const out = await json('/use-leaked') as string[];
    expect(out).toEqual(['TRESTY_ERR_API_BAD_REQUEST: bad request', 'TRESTY_ERR_API_BAD_REQUEST: bad request']);
  });
});

describe.skipIf(!REDIS_BIN)(`ngx.socket.tcp speaking RESP to redis-server${NO_REDIS}`, () => {
  it('SET then GET through a pooled connection', async () => {
    expect(await body('/redis?op=set&k=greeting&v=h%C3%A9llo')).toBe('["OK",null] reused=0');
    expect(await body('/redis?op=get&k=greeting')).toBe('["héllo",null] reused=1');
    expect(await body('/redis?op=get&k=missing')).toBe('[null,null] reused=2');
  });
});
