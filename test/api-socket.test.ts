// ngx.socket.tcp (cosockets) through the real server: handlers talk to a real peer, the line
// server of helpers/socket-peer.ts: connect, send, receive in every form, errors as values,
// timeouts, receiveuntil. The pool and phases: api-socket-pool.test.ts; UDP and TLS:
// api-socket-udp-tls.test.ts.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/server.js';
import { CONNECT, ECHO_LOCATION, socketSuite } from './helpers/socket-peer.js';

let unixServer: net.Server;
let unixDir = '';

/** Node always accepts; python3 can hold a listen socket with a backlog of 0 that never does. */
const PYTHON = spawnSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).stdout.trim();
let fullListener: ChildProcess | null = null;
const fillers: net.Socket[] = [];

/** A port whose accept queue is full (a connect to it hangs), or 1 without python3. */
async function fullPort(): Promise<number> {
  if (!PYTHON) return 1;
  const py = spawn(PYTHON, ['-c', 'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(600)']);
  fullListener = py;
  const p = await new Promise<number>((resolve, reject) => {
    py.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    py.once('exit', (code) => reject(new Error(`python3 listener exited (${code})`)));
  });
  for (let i = 0; i < 3; i++) fillers.push(net.connect(p, '127.0.0.1').on('error', () => {}));
  await new Promise((r) => setTimeout(r, 200));
  return p;
}

const LOCATIONS = `${ECHO_LOCATION}
    location = /lines {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('LINES\\n');
        const out = [];
        for (let i = 0; i < 3; i++) out.push((await sock.receive('*l'))[0]);
        ngx.say(JSON.stringify(out));
        sock.close();
      }
    }
    location = /sized {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('ECHO 0123456789\\n');
        const a = await sock.receive(4);
        const b = await sock.receive('3');
        const c = await sock.receive(0);
        const d = await sock.receiveany(100);
        ngx.say(JSON.stringify([a, b, c, d]));
        sock.close();
      }
    }
    location = /binary {
      content_by_js_block {
        const sock = ngx.socket.tcp({ binary: true });
        await sock.connect('127.0.0.1', PEER);
        await sock.send('BIN\\n');
        const [b] = await sock.receive(4);
        ngx.say(b instanceof Uint8Array, ' ', Array.from(b).join(','));
        sock.close();
      }
    }
    location = /all {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('ALL\\n');
        const a = await sock.receive('*a');
        const b = await sock.receive();
        ngx.say(JSON.stringify([a, b]));
      }
    }
    location = /partial {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('PARTIAL\\n');
        const r = await sock.receive(ngx.var.arg_n === 'line' ? '*l' : 10);
        const again = await sock.receive(1);
        const closed = sock.close();
        ngx.say(JSON.stringify([r, again, closed]));
      }
    }
    location = /reset {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('RESET\\n');
        ngx.say(JSON.stringify(await sock.receive()));
      }
    }
    location = /timeout {
      content_by_js_block {
        ${CONNECT()}
        sock.settimeouts(3000, 3000, Number(ngx.var.arg_ms));
        await sock.send('HANG\\n');
        const t0 = Date.now();
        const r = await sock.receive();
        const ms = Date.now() - t0;
        // A read timeout leaves the connection usable, as OpenResty's does.
        await sock.send('ECHO after\\n');
        const after = await sock.receive();
        ngx.say(JSON.stringify([r, after]), ' ', ms);
        sock.close();
      }
    }
    location = /refused {
      content_by_js_block {
        const sock = ngx.socket.tcp();
        const r = await sock.connect('127.0.0.1', ${'${DEAD}'});
        const s = await sock.send('x');
        const [s2, err] = await ngx.socket.connect('127.0.0.1', ${'${DEAD}'});
        ngx.say(JSON.stringify([r, s, s2, err]));
      }
    }
    location = /connect-timeout {
      content_by_js_block {
        const sock = ngx.socket.tcp();
        sock.settimeouts(Number(ngx.var.arg_ms), 1000, 1000);
        const t0 = Date.now();
        // A listener whose accept queue is full: the kernel drops the SYN, the connect hangs.
        const r = await sock.connect('127.0.0.1', ${'${FULL}'});
        ngx.say(JSON.stringify(r), ' ', Date.now() - t0);
      }
    }
    location = /resolve {
      content_by_js_block {
        const sock = ngx.socket.tcp();
        sock.settimeout(5000);
        const a = await sock.connect('localhost', PEER);
        sock.close();
        const b = await sock.connect('no-such-host.invalid', 80);
        ngx.say(JSON.stringify([a, b]));
      }
    }
    location = /unix {
      content_by_js_block {
        const [sock, err] = await ngx.socket.connect('unix:${'${UNIX}'}');
        if (!sock) { ngx.say('failed ', err); return; }
        await sock.send('ECHO via unix\\n');
        ngx.say((await sock.receive())[0]);
        sock.close();
      }
    }
    location = /until {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('SPLIT\\n');
        const read = sock.receiveuntil('\\r\\n--boundary', { inclusive: ngx.var.arg_inc === '1' });
        const size = ngx.var.arg_size ? Number(ngx.var.arg_size) : undefined;
        const out = [];
        for (let i = 0; i < 10; i++) {
          const r = await read(size);
          out.push(r);
          if (r[0] === null) break;
          if (size === undefined) break;
        }
        out.push(await sock.receive());
        ngx.say(JSON.stringify(out));
        sock.close();
      }
    }
    location = /until-closed {
      content_by_js_block {
        ${CONNECT()}
        await sock.send('PARTIAL\\n');
        ngx.say(JSON.stringify(await sock.receiveuntil('zzz')()));
      }
    }
    location = /busy {
      content_by_js_block {
        ${CONNECT()}
        sock.settimeout(300);
        await sock.send('HANG\\n');
        const [a, b] = await Promise.all([sock.receive(), sock.receive()]);
        ngx.say(JSON.stringify([a, b]));
        sock.close();
      }
    }
    location = /bad-args {
      content_by_js_block {
        const sock = ngx.socket.tcp();
        const out = [];
        const tries = [
          () => sock.connect(42, 1), () => sock.connect('127.0.0.1'), () => sock.connect('127.0.0.1', 70000),
          () => sock.settimeouts(1, 2, 'x'), () => sock.receive('*x'), () => sock.receive(-1), () => sock.settimeout('x'),
          () => sock.receiveuntil(''), () => sock.receiveany(0), () => ngx.socket.tcp(5),
        ];
        for (const f of tries) {
          try { await f(); out.push('no throw'); } catch (e) { out.push(e.code + ': ' + e.message); }
        }
        out.push(JSON.stringify(await sock.send({})));
        ngx.say(JSON.stringify(out));
      }
    }`;

const { body, json } = socketSuite(async () => {
  const dead = await freePort();
  unixDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-sock-'));
  const unixPath = path.join(unixDir, 'peer.sock');
  unixServer = net.createServer((s) => s.on('data', (d) => s.write(`${d.toString().trim().slice(5)}\n`)));
  await new Promise<void>((r) => unixServer.listen(unixPath, r));
  const full = await fullPort();
  return { locations: LOCATIONS.replaceAll('${DEAD}', String(dead)).replaceAll('${UNIX}', unixPath).replaceAll('${FULL}', String(full)) };
});

afterAll(() => {
  unixServer?.close();
  if (unixDir) fs.rmSync(unixDir, { recursive: true, force: true });
  for (const f of fillers) f.destroy();
  fullListener?.kill();
});

describe('ngx.socket.tcp: connect, send, receive, close', () => {
  it('sends a mixed array and reads a line; close then reports closed', async () => {
    expect(await body('/echo?t=hello&keep=no')).toBe('11 nil [hello] nil reused=0 kept=true nil');
  });

  it("receive('*l') strips LF and every CR", async () => {
    expect(await json('/lines')).toEqual(['one', 'two', 'three']);
  });

  it('receive(n), receive("n"), receive(0), receiveany', async () => {
    expect(await json('/sized')).toEqual([['0123', null, null], ['456', null, null], ['', null, null], ['789\r\n', null]]);
  });

  it('binary sockets return bytes', async () => {
    expect(await body('/binary')).toBe('true 0,255,10,13');
  });

  it("receive('*a') reads to the peer's close; the next receive is closed", async () => {
    expect(await json('/all')).toEqual([['x\r\ny\n', null, null], [null, 'closed', '']]);
  });

  // The end closes the reading side only (nginx + lua: close() then returns 1; compat-cosocket-fuzz).
  it('the peer closing mid-receive gives closed with the partial data; close() still closes', async () => {
    expect(await json('/partial')).toEqual([[null, 'closed', 'abc'], [null, 'closed', null], [true, null]]);
    expect(await json('/partial?n=line')).toEqual([[null, 'closed', 'abc'], [null, 'closed', null], [true, null]]);
  });

  it('a reset by the peer is an error value', async () => {
    expect(await json('/reset')).toEqual([null, 'connection reset by peer', '']);
  });

  it('a refused connect is an error value, also through ngx.socket.connect', async () => {
    expect(await json('/refused')).toEqual([[null, 'connection refused'], [null, 'closed'], null, 'connection refused']);
  });

  it('host names are resolved (system resolver); an unknown one says so', async () => {
    const [a, b] = await json('/resolve') as [unknown, [null, string]];
    expect(a).toEqual([true, null]);
    expect(b[0]).toBeNull();
    // (2: Server failure) where the machine has no DNS server to ask at all.
    expect(b[1]).toMatch(/^no-such-host\.invalid could not be resolved \((3: Host not found|2: Server failure)\)$/);
  });

  it('unix: sockets', async () => {
    expect(await body('/unix')).toBe('via unix');
  });

  it('two receives at once: the second is refused as busy', async () => {
    expect(await json('/busy')).toEqual([[null, 'timeout', ''], [null, 'socket busy reading', null]]);
  });

  it('bad arguments throw TRESTY_ERR_API_ARGS (never a network failure)', async () => {
    const out = await json('/bad-args') as string[];
    expect(out).toHaveLength(11);
    for (const o of out.slice(0, 10)) expect(o).toMatch(/^TRESTY_ERR_API_ARGS: /);
    // send checks the connection before its data, as nginx's (compat-cosocket-fuzz, case 'bool').
    expect(out[10]).toBe('[null,"closed"]');
    expect(out[0]).toContain("bad argument #1 to 'connect' (string expected, got number)");
    expect(out[2]).toContain('bad port number: 70000');
    expect(out[4]).toContain('bad pattern argument: *x');
  });
});

describe('ngx.socket.tcp: timeouts', () => {
  it('a peer that never answers gives "timeout" within the read timeout; the worker serves the next request', async () => {
    const t0 = Date.now();
    const b = await body('/timeout?ms=300');
    const m = /^(.*) (\d+)$/.exec(b)!;
    expect(JSON.parse(m[1]!)).toEqual([[null, 'timeout', ''], ['after', null, null]]);
    expect(Number(m[2])).toBeGreaterThanOrEqual(280);
    expect(Date.now() - t0).toBeLessThan(10_000); // far below the 60 s default, with room for a loaded machine
    expect(await body('/echo?t=next')).toContain('[next]');
  });

  it.skipIf(!PYTHON)(`a connect nobody answers gives "timeout" within the connect timeout${PYTHON ? '' : ' (skipped: python3, which holds a listener that never accepts, is not installed)'}`, async () => {
    const b = await body('/connect-timeout?ms=300');
    const m = /^(.*) (\d+)$/.exec(b)!;
    expect(JSON.parse(m[1]!)).toEqual([null, 'timeout']);
    expect(Number(m[2])).toBeGreaterThanOrEqual(280);
    expect(Number(m[2])).toBeLessThan(10_000);
    expect(await body('/echo?t=next&keep=no')).toContain('[next]');
  });
});

describe('ngx.socket.tcp: receiveuntil', () => {
  it('finds a pattern written across three packets', async () => {
    expect(await json('/until')).toEqual([['hello world', null, null], ['tail', null, null]]);
  });

  it('inclusive keeps the pattern', async () => {
    expect(await json('/until?inc=1')).toEqual([['hello world\r\n--boundary', null, null], ['tail', null, null]]);
  });

  it('with a size, gives pieces of at most that size, then [null, null, null]', async () => {
    const out = await json('/until?size=4') as unknown[][];
    expect(out.at(-2)).toEqual([null, null, null]);
    expect(out.at(-1)).toEqual(['tail', null, null]);
    const pieces = out.slice(0, -2).map((r) => r[0] as string);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(4);
    expect(pieces.join('')).toBe('hello world');
  });

  it('the peer closing before the pattern gives closed with the partial data', async () => {
    expect(await json('/until-closed')).toEqual([null, 'closed', 'abc']);
  });
});
