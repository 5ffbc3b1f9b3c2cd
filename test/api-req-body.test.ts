// ngx.req.init_body / append_body / finish_body, set_body_data / set_body_file and bodies kept in
// temp files, on both engines and on nginx with the same expectations. nginx 1.22 +
// lua-nginx-module 0.10.23, observed:
//   - init_body before read_body: `request body not read yet` (set_body_data/set_body_file too);
//     append_body / finish_body without init_body: `request_body not initialized`;
//     init_body(-1): `bad size argument: -1`; set_body_file of a missing file: `stat() "..." failed`.
//   - the built body is visible to get_body_data before finish_body; Content-Length (get_headers,
//     the proxied request, a capture) becomes its length at finish_body; an empty one is nil with
//     Content-Length 0; init_body twice starts over; append_body after finish_body still appends
//     to a body in memory, but once finish_body ran with the body in a file the appends are lost
//     (no error; the file unchanged; nginx's next finish_body counts them in Content-Length).
//   - past init_body's size (client_body_buffer_size by default, 8k) the body is in a temp file
//     under client_body_temp_path: get_body_data nil, get_body_file its path, $request_body
//     empty; init_body(5) keeps "hello" in memory, "hello!" goes to the file. A read body past
//     client_body_buffer_size goes to a file too (chunked or not); client_body_in_file_only puts
//     every body there. The files are removed when the request ends, after the log phase
//     (log_by_lua reads get_body_file()) (with client_body_in_file_only on too: nginx keeps its
//     own request body files then, as when proxy_pass reads an unread body, but
//     lua-nginx-module's read_body removes them); set_body_file(f, true) removes f then.
//   - proxy_pass sends the new body with its Content-Length (no Transfer-Encoding, even when the
//     request was chunked); a POST capture gets it, and its get_body_file names the parent's file.
//   - with ngx.req.socket() (called first) a rewrite handler filters the body into a new one;
//     ngx.req.socket() after init_body: nil, "request body already exists".
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

interface Answer { status: number; body: string }

/** One request (Connection: close); `chunked` sends the body in two chunks. */
function send(port: number, p: string, body: string | null, chunked = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let head = `${body === null ? 'GET' : 'POST'} ${p} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n`;
    let payload = '';
    if (body !== null && chunked) {
      const half = body.length >> 1;
      head += 'Transfer-Encoding: chunked\r\n';
      payload = `${half.toString(16)}\r\n${body.slice(0, half)}\r\n${(body.length - half).toString(16)}\r\n${body.slice(half)}\r\n0\r\n\r\n`;
    } else if (body !== null) {
      head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
      payload = body;
    }
    const s = net.connect(port, '127.0.0.1', () => s.write(`${head}\r\n${payload}`));
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    const t = setTimeout(() => s.destroy(new Error('no answer in 10 s')), 10_000);
    s.on('error', (e) => { clearTimeout(t); reject(e); });
    s.on('close', () => {
      clearTimeout(t);
      const all = Buffer.concat(parts).toString('latin1');
      const end = all.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(all)?.[1] ?? 0);
      let rest = end < 0 ? '' : all.slice(end + 4);
      if (/\r\ntransfer-encoding: chunked/i.test(all.slice(0, end))) {
        let out = '';
        for (;;) {
          const nl = rest.indexOf('\r\n');
          const n = parseInt(rest.slice(0, nl), 16);
          if (!(n > 0)) break;
          out += rest.slice(nl + 2, nl + 2 + n);
          rest = rest.slice(nl + 4 + n);
        }
        rest = out;
      }
      resolve({ status, body: rest });
    });
  });
}

async function gone(file: string): Promise<boolean> {
  for (let i = 0; i < 100 && fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 20));
  return !fs.existsSync(file);
}

async function logged(t: Target, text: string): Promise<string> {
  for (let i = 0; i < 100 && !t.errorLog().includes(text); i++) await new Promise((r) => setTimeout(r, 20));
  return t.errorLog();
}

interface Target { port: number; errorLog(): string; scratch: string }

const BIG = 'b'.repeat(3000);

function checks(get: () => Target): void {
  it('init_body, append_body, finish_body: a new body, its Content-Length', async () => {
    const a = await send(get().port, '/build', 'orig');
    expect(a).toEqual({ status: 200, body: 'data=hello world file=nil rb=hello world cl=11\n' });
  });

  it('the body is seen before finish_body; Content-Length changes at finish_body; appends after it still count', async () => {
    expect((await send(get().port, '/steps', 'x'.repeat(35))).body).toBe('nil 35\nab 35\n2\nabcd 2\n4\n');
  });

  it('init_body twice starts over; an empty body is nil with Content-Length 0; appending "" adds nothing', async () => {
    expect((await send(get().port, '/twice', 'orig')).body).toBe('b\n');
    expect((await send(get().port, '/empty', 'orig')).body).toBe('nil 0\n');
    expect((await send(get().port, '/append-empty', 'orig')).body).toBe('nil\n');
  });

  it('a body of a GET with no body can be built too', async () => {
    expect((await send(get().port, '/build', null)).body).toBe('data=hello world file=nil rb=hello world cl=11\n');
  });

  it('errors with nginx\'s texts: not read, not initialized, bad size, missing file', async () => {
    const t = get();
    const cases: Array<[string, string]> = [
      ['/init-unread', 'request body not read yet'],
      ['/append-noinit', 'request_body not initialized'],
      ['/finish-noinit', 'request_body not initialized'],
      ['/init-neg', 'bad size argument: -1'],
      ['/setdata-unread', 'request body not read yet'],
      ['/setfile-missing', `stat() "${t.scratch}/none.txt" failed`],
    ];
    for (const [p] of cases) expect((await send(t.port, p, 'orig')).status, p).toBe(500);
    // The log line may be written just after the answer.
    for (const [, text] of cases) expect(await logged(t, text)).toContain(text);
  });

  it('past init_body\'s size the body is in a temp file (get_body_data nil), removed at the request\'s end', async () => {
    const t = get();
    const a = await send(t.port, '/build-small', 'orig');
    const m = /^data=nil file=(\S+) content=hello world rb=nil cl=11\n$/.exec(a.body);
    expect(a.body).toMatch(/^data=nil file=\S+ content=hello world rb=nil cl=11\n$/);
    expect(await gone(m![1]!)).toBe(true);
    expect((await send(t.port, '/size5', 'orig')).body).toBe('hello nil\nnil file\n');
    expect(await logged(t, 'a client request body is buffered to a temporary file')).toContain('a client request body is buffered to a temporary file');
  });

  it('a read body past client_body_buffer_size is in a temp file, chunked or not; removed at the end', async () => {
    for (const chunked of [false, true]) {
      const a = await send(get().port, '/big', BIG, chunked);
      const m = /^data=nil file=(\S+) rb=nil content=(\d+)\n$/.exec(a.body);
      expect(a.body).toMatch(/^data=nil file=\S+ rb=nil content=3000\n$/);
      expect(await gone(m![1]!)).toBe(true);
    }
    // Under the buffer: in memory, as before.
    expect((await send(get().port, '/big', 'b'.repeat(10))).body).toBe(`data=${'b'.repeat(10)} file=nil rb=${'b'.repeat(10)} content=nil\n`);
  });

  it('a body that came with its head: the header buffer\'s part and a quarter more than the buffer stay in memory, as nginx keeps them', async () => {
    // nginx 1.22, client_body_buffer_size 4k, head and body in one write: Content-Length 6,000 in
    // memory and 7,000 in a file; chunked 5,000 in memory and 5,119 in a file.
    expect((await send(get().port, '/big4k', 'b'.repeat(5500))).body).toBe('mem 5500\n');
    expect((await send(get().port, '/big4k', 'b'.repeat(7000))).body).toBe('file 0\n');
    expect((await send(get().port, '/big4k', 'b'.repeat(4800), true)).body).toBe('mem 4800\n');
    expect((await send(get().port, '/big4k', 'b'.repeat(5500), true)).body).toBe('file 0\n');
  });

  it('log_by_js still reads the body\'s temp file (nginx removes it after its log phase); it is gone afterwards', async () => {
    const t = get();
    const a = await send(t.port, '/log-file', BIG);
    const m = /^file=(\S+)\n$/.exec(a.body);
    expect(a.body).toMatch(/^file=\S+\n$/);
    expect(await logged(t, 'in log: 3000 bytes')).toContain(`in log: 3000 bytes from ${m![1]!}`);
    expect(await gone(m![1]!)).toBe(true);
    // A body built by init_body in a file: the same.
    const b = await send(t.port, '/log-built', 'orig');
    const f = /^file=(\S+)\n$/.exec(b.body)![1]!;
    expect(await logged(t, 'in log: 11 bytes')).toContain(`in log: 11 bytes from ${f}`);
    expect(await gone(f)).toBe(true);
  });

  it('append_body after finish_body saved a body in a file: the bytes reach neither the file nor get_body_data; init_body starts over', async () => {
    expect((await send(get().port, '/after-file', 'orig')).body)
      .toBe('1 [hello world] cl=11\n2 [hello world] data=nil cl=11\n3 [hello world] data=nil\n4 [hello world] data=nil\nnew\n');
    // The file came after a finish_body in memory: appends go on until the next finish_body.
    expect((await send(get().port, '/mem-then-file', 'orig')).body)
      .toBe('3 [helloworld12345ZZ] cl=17\n4 [helloworld12345ZZ] data=nil\n');
  });

  it('client_body_in_file_only clean: even a small body is in a file', async () => {
    expect((await send(get().port, '/file-only', 'tiny')).body).toMatch(/^data=nil file=\S+ content=tiny\n$/);
  });

  it('client_body_in_file_only on: a body read_body put in a file is removed at the end all the same', async () => {
    const a = await send(get().port, '/file-keep', 'kept');
    const m = /^file=(\S+) content=kept\n$/.exec(a.body);
    expect(a.body).toMatch(/^file=\S+ content=kept\n$/);
    expect(await gone(m![1]!)).toBe(true);
  });

  it('client_body_in_file_only with proxy_pass and an unread body: the proxy spools it to a named temp file, kept with on, removed with clean', async () => {
    const t = get();
    const fileOf = async (mode: string): Promise<string> => {
      const line = new RegExp(`fio-${mode} rbf=(${t.scratch}/fio-${mode}/\\d{10}) gbf=([^\\s,]+)`);
      await logged(t, `fio-${mode} rbf=`);
      const m = line.exec(t.errorLog());
      expect(m?.[2]).toBe(m?.[1]);
      return m![1]!;
    };
    // The upstream sees the file in the folder while the request runs.
    expect((await send(t.port, '/fio-on', 'tiny')).body).toBe('1 tiny\n');
    const kept = await fileOf('on');
    expect(fs.readFileSync(kept, 'utf8')).toBe('tiny');
    expect(t.errorLog()).toMatch(new RegExp(`\\[notice\\] .*a client request body is buffered to a temporary file ${kept}`));
    fs.rmSync(kept);
    expect((await send(t.port, '/fio-on', 'tiny chunked', true)).body).toBe('1 tiny chunked\n');
    await new Promise((r) => setTimeout(r, 100));
    const names = fs.readdirSync(`${t.scratch}/fio-on`);
    expect(names.length).toBe(1);
    expect(fs.readFileSync(`${t.scratch}/fio-on/${names[0]!}`, 'utf8')).toBe('tiny chunked');
    expect((await send(t.port, '/fio-clean', BIG)).body).toBe(`1 ${BIG}\n`);
    expect(await gone(await fileOf('clean'))).toBe(true);
    // Not buffered: streamed as before, no file.
    expect((await send(t.port, '/fio-nobuf', 'tiny')).body).toBe('0 tiny\n');
    expect(await logged(t, 'fio-nobuf rbf=')).toContain('fio-nobuf rbf=nil gbf=nil');
  });

  it('proxy_pass sends the built body with its Content-Length (in memory, in a file, from a chunked request)', async () => {
    expect((await send(get().port, '/proxy', 'orig')).body).toBe('len=9 te=nil data=new body!\n');
    expect((await send(get().port, '/proxy-file', 'orig')).body).toBe('len=16 te=nil data=new body in file\n');
    expect((await send(get().port, '/proxy', 'orig', true)).body).toBe('len=9 te=nil data=new body!\n');
    // A read body in a file goes up whole too.
    expect((await send(get().port, '/big-proxy', BIG)).body).toBe(`len=3000 te=nil data=${BIG}\n`);
  });

  it('an input filter: ngx.req.socket() reads the body, init_body/append_body rebuild it, proxy_pass sends it', async () => {
    expect((await send(get().port, '/filter', 'abcdefghij')).body).toBe('len=10 te=nil data=ABCDEFGHIJ\n');
    // init_body first: the body exists, the socket is refused.
    expect((await send(get().port, '/filter-late', 'abc')).body).toBe('nil request body already exists\n');
  });

  it('a POST capture gets the built body; a body in a file is shared with it', async () => {
    expect((await send(get().port, '/cap', 'orig')).body).toBe('len=8 data=captured file=nil\n');
    expect((await send(get().port, '/cap-file', 'orig')).body).toBe('len=13 data=nil file=yes content=captured-file\n');
  });

  it('rewrite builds, access appends: the content phase sees both', async () => {
    expect((await send(get().port, '/phases', 'orig')).body).toBe('rw+ac\n');
  });

  it('set_body_data replaces the body and its Content-Length; set_body_file uses the file (auto_clean removes it)', async () => {
    const t = get();
    expect((await send(t.port, '/setdata', 'orig')).body).toBe('abc 3\n');
    const f = path.join(t.scratch, 'bf.txt');
    fs.writeFileSync(f, 'from file');
    expect((await send(t.port, '/setfile', 'orig')).body).toBe(`nil ${f} 9 nil\n`);
    expect(fs.existsSync(f)).toBe(true);
    fs.writeFileSync(f, 'from file 2');
    expect((await send(t.port, '/setfile-proxy', 'orig')).body).toBe('len=11 te=nil data=from file 2\n');
    expect(await gone(f)).toBe(true);
  });
}

/** Each location in Lua (nginx) and JS (tresty). */
function locations(lua: boolean, scratch: string, port: number): string {
  const say = (...a: string[]): string => `ngx.say(${a.join(', ')})`;
  const L = (p: string, extra: string, luaCode: string, jsCode: string): string =>
    lua ? `location = ${p} { ${extra} content_by_lua_block { ${luaCode} } }`
      : `location = ${p} { ${extra} content_by_js_block { ${jsCode} } }`;
  const R = (p: string, luaCode: string, jsCode: string, tail: string): string =>
    lua ? `location = ${p} { rewrite_by_lua_block { ${luaCode} } ${tail} }`
      : `location = ${p} { rewrite_by_js_block { ${jsCode} } ${tail} }`;
  const read = lua ? 'ngx.req.read_body()' : 'await ngx.req.read_body();';
  const cl = 'ngx.req.get_headers()["content-length"]';
  const content = (f: string): string => (lua ? `(${f} and io.open(${f}):read("*a"))` : `(${f} && require("fs").readFileSync(${f}, "utf8"))`);
  const echo = `proxy_pass http://127.0.0.1:${port}/echo;`;
  const j = (lines: string[]): string => (lua ? lines.join(' ') : lines.join('; '));
  return [
    L('/echo', '', j([read, say('"len=", ngx.var.http_content_length, " te=", ngx.var.http_transfer_encoding, " data=", ngx.req.get_body_data()')]),
      j([read, say('"len=", ngx.var.http_content_length, " te=", ngx.var.http_transfer_encoding ?? null, " data=", ngx.req.get_body_data()')])),
    L('/echo-file', '', j([read, `local f = ngx.req.get_body_file()`, say('"len=", ngx.var.http_content_length, " data=", ngx.req.get_body_data(), " file=", f and "yes", " content=", io.open(f):read("*a")')]),
      j([read, 'const f = ngx.req.get_body_file()', say('"len=", ngx.var.http_content_length, " data=", ngx.req.get_body_data(), " file=", f && "yes", " content=", require("fs").readFileSync(f, "utf8")')])),
    L('/build', '', ...((): [string, string] => {
      const lines = [read, 'ngx.req.init_body()', 'ngx.req.append_body("hello ")', 'ngx.req.append_body("world")', 'ngx.req.finish_body()',
        say(`"data=", ngx.req.get_body_data(), " file=", ngx.req.get_body_file(), " rb=", ngx.var.request_body${lua ? '' : ' ?? null'}, " cl=", ${cl}`)];
      return [j(lines), j(lines)];
    })()),
    L('/steps', '', j([read, 'ngx.req.init_body()', say(`ngx.req.get_body_data(), " ", ${cl}`), 'ngx.req.append_body("ab")', say(`ngx.req.get_body_data(), " ", ${cl}`),
      'ngx.req.finish_body()', say(cl), 'ngx.req.append_body("cd")', say(`ngx.req.get_body_data(), " ", ${cl}`), 'ngx.req.finish_body()', say(cl)]),
    j([read, 'ngx.req.init_body()', say(`ngx.req.get_body_data(), " ", ${cl}`), 'ngx.req.append_body("ab")', say(`ngx.req.get_body_data(), " ", ${cl}`),
      'ngx.req.finish_body()', say(cl), 'ngx.req.append_body("cd")', say(`ngx.req.get_body_data(), " ", ${cl}`), 'ngx.req.finish_body()', say(cl)])),
    L('/twice', '', j([read, 'ngx.req.init_body()', 'ngx.req.append_body("a")', 'ngx.req.finish_body()', 'ngx.req.init_body()', 'ngx.req.append_body("b")', 'ngx.req.finish_body()', say('ngx.req.get_body_data()')]),
      j([read, 'ngx.req.init_body()', 'ngx.req.append_body("a")', 'ngx.req.finish_body()', 'ngx.req.init_body()', 'ngx.req.append_body("b")', 'ngx.req.finish_body()', say('ngx.req.get_body_data()')])),
    L('/empty', '', j([read, 'ngx.req.init_body()', 'ngx.req.finish_body()', say(`ngx.req.get_body_data(), " ", ${cl}`)]),
      j([read, 'ngx.req.init_body()', 'ngx.req.finish_body()', say(`ngx.req.get_body_data(), " ", ${cl}`)])),
    L('/append-empty', '', j([read, 'ngx.req.init_body()', 'ngx.req.append_body("")', 'ngx.req.finish_body()', say('ngx.req.get_body_data()')]),
      j([read, 'ngx.req.init_body()', 'ngx.req.append_body("")', 'ngx.req.finish_body()', say('ngx.req.get_body_data()')])),
    L('/init-unread', '', 'ngx.req.init_body()', 'ngx.req.init_body()'),
    L('/append-noinit', '', j([read, 'ngx.req.append_body("x")']), j([read, 'ngx.req.append_body("x")'])),
    L('/finish-noinit', '', j([read, 'ngx.req.finish_body()']), j([read, 'ngx.req.finish_body()'])),
    L('/init-neg', '', j([read, 'ngx.req.init_body(-1)']), j([read, 'ngx.req.init_body(-1)'])),
    L('/setdata-unread', '', 'ngx.req.set_body_data("abc")', 'ngx.req.set_body_data("abc")'),
    L('/setfile-missing', '', j([read, `ngx.req.set_body_file("${scratch}/none.txt")`]), j([read, `ngx.req.set_body_file("${scratch}/none.txt")`])),
    L('/build-small', '', j([read, 'ngx.req.init_body(4)', 'ngx.req.append_body("hello ")', 'ngx.req.append_body("world")', 'ngx.req.finish_body()',
      lua ? 'local f = ngx.req.get_body_file()' : 'const f = ngx.req.get_body_file()',
      say(`"data=", ngx.req.get_body_data(), " file=", f, " content=", ${content('f')}, " rb=", ngx.var.request_body${lua ? '' : ' ?? null'}, " cl=", ${cl}`)]),
    j([read, 'ngx.req.init_body(4)', 'ngx.req.append_body("hello ")', 'ngx.req.append_body("world")', 'ngx.req.finish_body()',
      'const f = ngx.req.get_body_file()',
      say(`"data=", ngx.req.get_body_data(), " file=", f, " content=", ${content('f')}, " rb=", ngx.var.request_body ?? null, " cl=", ${cl}`)])),
    L('/size5', '', j([read, 'ngx.req.init_body(5)', 'ngx.req.append_body("hello")', 'ngx.req.finish_body()', say('ngx.req.get_body_data(), " ", ngx.req.get_body_file()'),
      'ngx.req.init_body(5)', 'ngx.req.append_body("hello!")', 'ngx.req.finish_body()', say('ngx.req.get_body_data(), " ", ngx.req.get_body_file() and "file"')]),
    j([read, 'ngx.req.init_body(5)', 'ngx.req.append_body("hello")', 'ngx.req.finish_body()', say('ngx.req.get_body_data(), " ", ngx.req.get_body_file()'),
      'ngx.req.init_body(5)', 'ngx.req.append_body("hello!")', 'ngx.req.finish_body()', say('ngx.req.get_body_data(), " ", ngx.req.get_body_file() && "file"')])),
    L('/big', 'client_body_buffer_size 16;', j([read, 'local f = ngx.req.get_body_file()', say(`"data=", ngx.req.get_body_data(), " file=", f, " rb=", ngx.var.request_body, " content=", f and #io.open(f):read("*a")`)]),
      j([read, 'const f = ngx.req.get_body_file()', say(`"data=", ngx.req.get_body_data(), " file=", f, " rb=", ngx.var.request_body ?? null, " content=", f && require("fs").readFileSync(f, "utf8").length`)])),
    L('/big4k', 'client_body_buffer_size 4k;', j([read, say(`ngx.req.get_body_file() and "file" or "mem", " ", #(ngx.req.get_body_data() or "")`)]),
      j([read, say(`ngx.req.get_body_file() ? "file" : "mem", " ", (ngx.req.get_body_data() ?? "").length`)])),
    L('/log-file', `client_body_buffer_size 16; ${lua ? 'log_by_lua_block' : 'log_by_js_block'} { ${lua
      ? 'local f = ngx.req.get_body_file() local h = f and io.open(f) ngx.log(ngx.ERR, "in log: ", h and #h:read("*a"), " bytes from ", f)'
      : 'const f = ngx.req.get_body_file(); ngx.log(ngx.ERR, "in log: ", f && require("fs").readFileSync(f).length, " bytes from ", f)'} }`,
    j([read, say('"file=", ngx.req.get_body_file()')]), j([read, say('"file=", ngx.req.get_body_file()')])),
    L('/log-built', `${lua ? 'log_by_lua_block' : 'log_by_js_block'} { ${lua
      ? 'local f = ngx.req.get_body_file() local h = f and io.open(f) ngx.log(ngx.ERR, "in log: ", h and #h:read("*a"), " bytes from ", f)'
      : 'const f = ngx.req.get_body_file(); ngx.log(ngx.ERR, "in log: ", f && require("fs").readFileSync(f).length, " bytes from ", f)'} }`,
    ...((): [string, string] => {
      const lines = [read, 'ngx.req.init_body(4)', 'ngx.req.append_body("hello world")', 'ngx.req.finish_body()', say('"file=", ngx.req.get_body_file()')];
      return [j(lines), j(lines)];
    })()),
    ...((): string[] => {
      const f = lua ? 'local f = ngx.req.get_body_file()' : 'const f = ngx.req.get_body_file()';
      const c = (lua ? 'io.open(f):read("*a")' : 'require("fs").readFileSync(f, "utf8")');
      const after = [read, 'ngx.req.init_body(4)', 'ngx.req.append_body("hello world")', 'ngx.req.finish_body()', f,
        say(`"1 [", ${c}, "] cl=", ${cl}`),
        'ngx.req.append_body("XYZW12345678")',
        say(`"2 [", ${c}, "] data=", ngx.req.get_body_data(), " cl=", ${cl}`),
        'ngx.req.finish_body()',
        say(`"3 [", ${c}, "] data=", ngx.req.get_body_data()`),
        'ngx.req.append_body("Q")', 'ngx.req.finish_body()',
        say(`"4 [", ${c}, "] data=", ngx.req.get_body_data()`),
        'ngx.req.init_body()', 'ngx.req.append_body("new")', 'ngx.req.finish_body()', say('ngx.req.get_body_data()')];
      const memThenFile = [read, 'ngx.req.init_body(8)', 'ngx.req.append_body("hello")', 'ngx.req.finish_body()', 'ngx.req.append_body("world12345")', f,
        // nginx writes the file when its buffer fills and at finish_body: read it after the last append or a finish.
        'ngx.req.append_body("ZZ")', 'ngx.req.finish_body()',
        say(`"3 [", ${c}, "] cl=", ${cl}`), 'ngx.req.append_body("QQ")',
        say(`"4 [", ${c}, "] data=", ngx.req.get_body_data()`)];
      return [L('/after-file', '', j(after), j(after)), L('/mem-then-file', '', j(memThenFile), j(memThenFile))];
    })(),
    L('/ls', '', `ngx.req.read_body() local n = 0 for _ in io.popen("ls ${scratch}/" .. ngx.var.arg_d):lines() do n = n + 1 end ngx.say(n, " ", ngx.req.get_body_data())`,
      // tresty makes a temp folder when it first needs it (nginx at start): a missing one is empty.
      `await ngx.req.read_body(); const d = "${scratch}/" + ngx.var.arg_d; ngx.say(require("fs").existsSync(d) ? require("fs").readdirSync(d).length : 0, " ", ngx.req.get_body_data())`),
    ...['on', 'clean', 'nobuf'].map((mode) => `location = /fio-${mode} { client_body_in_file_only ${mode === 'clean' ? 'clean' : 'on'}; ${mode === 'nobuf' ? 'proxy_request_buffering off; ' : ''}`
      + `client_body_temp_path ${scratch}/fio-${mode}; proxy_pass http://127.0.0.1:${port}/ls?d=fio-${mode}; `
      + `${lua ? 'log_by_lua_block' : 'log_by_js_block'} { ngx.log(ngx.ERR, "fio-${mode} rbf=", ngx.var.request_body_file, " gbf=", ngx.req.get_body_file()) } }`),
    L('/file-keep', 'client_body_in_file_only on;', j([read, 'local f = ngx.req.get_body_file()', say(`"file=", f, " content=", ${content('f')}`)]),
      j([read, 'const f = ngx.req.get_body_file()', say(`"file=", f, " content=", ${content('f')}`)])),
    L('/file-only', 'client_body_in_file_only clean;', j([read, 'local f = ngx.req.get_body_file()', say(`"data=", ngx.req.get_body_data(), " file=", f, " content=", ${content('f')}`)]),
      j([read, 'const f = ngx.req.get_body_file()', say(`"data=", ngx.req.get_body_data(), " file=", f, " content=", ${content('f')}`)])),
    R('/proxy', j([read, 'ngx.req.init_body()', 'ngx.req.append_body("new body!")', 'ngx.req.finish_body()']), j([read, 'ngx.req.init_body()', 'ngx.req.append_body("new body!")', 'ngx.req.finish_body()']), echo),
    R('/proxy-file', j([read, 'ngx.req.init_body(4)', 'ngx.req.append_body("new body in file")', 'ngx.req.finish_body()']), j([read, 'ngx.req.init_body(4)', 'ngx.req.append_body("new body in file")', 'ngx.req.finish_body()']), echo),
    R('/big-proxy', read, read, `client_body_buffer_size 16; ${echo}`),
    R('/filter',
      'local s = ngx.req.socket() ngx.req.init_body(4) while true do local d, e, part = s:receive(3) if d then ngx.req.append_body(d:upper()) else if part and #part > 0 then ngx.req.append_body(part:upper()) end break end end ngx.req.finish_body()',
      'const [s] = ngx.req.socket(); ngx.req.init_body(4); for (;;) { const [d, e, part] = await s.receive(3); if (d !== null) { ngx.req.append_body(d.toUpperCase()); continue; } if (part) ngx.req.append_body(part.toUpperCase()); break; } ngx.req.finish_body()',
      echo),
    L('/filter-late', '', 'ngx.req.read_body() ngx.req.init_body() local s, err = ngx.req.socket() ngx.say(tostring(s), " ", err)',
      'await ngx.req.read_body(); ngx.req.init_body(); const [s, err] = ngx.req.socket(); ngx.say(s ?? "nil", " ", err)'),
    L('/cap', '', j([read, 'ngx.req.init_body()', 'ngx.req.append_body("captured")', 'ngx.req.finish_body()', 'local r = ngx.location.capture("/echo-file-or-data", {method = ngx.HTTP_POST})', 'ngx.print(r.body)']),
      j([read, 'ngx.req.init_body()', 'ngx.req.append_body("captured")', 'ngx.req.finish_body()', 'const r = await ngx.location.capture("/echo-file-or-data", {method: ngx.HTTP_POST})', 'ngx.print(r.body)'])),
    L('/echo-file-or-data', '', j([read, say('"len=", ngx.var.http_content_length, " data=", ngx.req.get_body_data(), " file=", ngx.req.get_body_file()')]),
      j([read, say('"len=", ngx.var.http_content_length, " data=", ngx.req.get_body_data(), " file=", ngx.req.get_body_file()')])),
    L('/cap-file', '', j([read, 'ngx.req.init_body(3)', 'ngx.req.append_body("captured-file")', 'ngx.req.finish_body()', 'local r = ngx.location.capture("/echo-file", {method = ngx.HTTP_POST})', 'ngx.print(r.body)']),
      j([read, 'ngx.req.init_body(3)', 'ngx.req.append_body("captured-file")', 'ngx.req.finish_body()', 'const r = await ngx.location.capture("/echo-file", {method: ngx.HTTP_POST})', 'ngx.print(r.body)'])),
    lua ? 'location = /phases { rewrite_by_lua_block { ngx.req.read_body() ngx.req.init_body() ngx.req.append_body("rw") ngx.req.finish_body() } access_by_lua_block { ngx.req.append_body("+ac") ngx.req.finish_body() } content_by_lua_block { ngx.say(ngx.req.get_body_data()) } }'
      : 'location = /phases { rewrite_by_js_block { await ngx.req.read_body(); ngx.req.init_body(); ngx.req.append_body("rw"); ngx.req.finish_body() } access_by_js_block { ngx.req.append_body("+ac"); ngx.req.finish_body() } content_by_js_block { ngx.say(ngx.req.get_body_data()) } }',
    L('/setdata', '', j([read, 'ngx.req.set_body_data("abc")', say(`ngx.req.get_body_data(), " ", ${cl}`)]), j([read, 'ngx.req.set_body_data("abc")', say(`ngx.req.get_body_data(), " ", ${cl}`)])),
    L('/setfile', '', j([read, `ngx.req.set_body_file("${scratch}/bf.txt")`, say(`ngx.req.get_body_data(), " ", ngx.req.get_body_file(), " ", ${cl}, " ", ngx.var.request_body`)]),
      j([read, `ngx.req.set_body_file("${scratch}/bf.txt")`, say(`ngx.req.get_body_data(), " ", ngx.req.get_body_file(), " ", ${cl}, " ", ngx.var.request_body ?? null`)])),
    R('/setfile-proxy', j([read, `ngx.req.set_body_file("${scratch}/bf.txt", true)`]), j([read, `ngx.req.set_body_file("${scratch}/bf.txt", true)`]), echo),
  ].filter((s) => s !== '').join('\n    ');
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'ngx.req.init_body/append_body/finish_body and bodies in files'), () => {
    let t: TrestyProcess;
    let port: number;
    let scratch: string;
    beforeAll(async () => {
      port = await freePort();
      scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-reqbody-'));
      t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  server {
    listen 127.0.0.1:${port};
    ${locations(false, scratch, port)}
    location = /bytes { content_by_js_block { await ngx.req.read_body(); ngx.req.init_body(); ngx.req.append_body(new Uint8Array([104, 105])); ngx.req.append_body(Buffer.from('!')); ngx.req.append_body(7); ngx.req.finish_body(); ngx.say(ngx.req.get_body_data(), " ", ngx.req.get_headers()["content-length"] === "4" ? 3 : -1) } }
    location = /after-file-cl { content_by_js_block { await ngx.req.read_body(); ngx.req.init_body(4); ngx.req.append_body("hello world"); ngx.req.finish_body(); ngx.req.append_body("XYZW12345678"); ngx.req.finish_body(); ngx.say(ngx.req.get_headers()["content-length"], " ", require("fs").statSync(ngx.req.get_body_file()).size) } }
    location = /append-null { content_by_js_block { await ngx.req.read_body(); ngx.req.init_body(); ngx.req.append_body(null) } }
    location = /temp-path { client_body_temp_path ${scratch}/tmp 1 2; content_by_js_block { await ngx.req.read_body(); ngx.req.init_body(0); ngx.req.append_body("x"); ngx.req.finish_body(); ngx.say(require("path").dirname(ngx.req.get_body_file())) } }
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); fs.rmSync(scratch, { recursive: true, force: true }); });
    checks(() => ({ port, scratch, errorLog: () => fs.readFileSync(path.join(t.prefix, 'logs/error.log'), 'utf8') }));

    // JavaScript only: bytes, and what Lua's argument checks become.
    it('append_body takes bytes (Uint8Array, Buffer) and numbers; null is refused as Lua refuses nil', async () => {
      expect((await send(port, '/bytes', 'orig')).body).toBe('hi!7 3\n');
      expect((await send(port, '/append-null', 'orig')).status).toBe(500);
      const tag = "bad argument #1 to 'append_body' (string expected, got null)";
      for (let i = 0; i < 100 && !fs.readFileSync(path.join(t.prefix, 'logs/error.log'), 'utf8').includes(tag); i++) await new Promise((r) => setTimeout(r, 20));
      expect(fs.readFileSync(path.join(t.prefix, 'logs/error.log'), 'utf8')).toContain(tag);
    });

    it('finish_body after appends that were lost keeps Content-Length the file\'s size', async () => {
      // nginx 1.22 counts the lost bytes (Content-Length 23 for an 11-byte file), and its
      // proxy_pass then waits for bytes that never come (504): tresty keeps the length true.
      expect((await send(port, '/after-file-cl', 'orig')).body).toBe('11 11\n');
    });

    it('the temp files of bodies go under client_body_temp_path', async () => {
      const a = await send(port, '/temp-path', 'orig');
      expect(a.body).toBe(`${path.join(scratch, 'tmp')}\n`);
    });
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`ngx.req.init_body/append_body/finish_body and bodies in files, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  let scratch: string;
  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-reqbody-'));
    fs.chmodSync(scratch, 0o777);
    n = await startNginx(locations(true, scratch, 0).replace(/127\.0\.0\.1:0\//g, '127.0.0.1:__PORT__/'));
  });
  afterAll(async () => { await n?.stop(); fs.rmSync(scratch, { recursive: true, force: true }); });
  checks(() => ({ port: n.port, scratch, errorLog: () => n.errorLog() }));
});
