import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dumpConf, loadConf } from '../src/config/index.js';
import { maskCountWarning, pollerCpus, workerCpus } from '../src/master/cpu-affinity.js';

// Prefixes outlive the call (tests read files under them), so they go when the file is done.
const made: string[] = [];
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

function prefixWith(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tresty-conf-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function load(conf: string, extra: Record<string, string> = {}, globals?: string) {
  const prefix = prefixWith({ 'conf/nginx.conf': conf, ...extra });
  return { prefix, ...loadConf({ file: 'conf/nginx.conf', prefix, globals }) };
}

function errorOf(conf: string, extra: Record<string, string> = {}): { code: string; message: string } {
  try {
    load(conf, extra);
  } catch (e) {
    const err = e as { code: string; message: string };
    return { code: err.code, message: err.message };
  }
  throw new Error('expected a conf error');
}

describe('conf parser: valid confs', () => {
  it('resolves a typical conf with inheritance, defaults and prefix-relative paths', () => {
    const { conf, prefix } = load(`
      # comment
      worker_processes 2;
      error_log logs/error.log warn;
      events { worker_connections 1024; }
      http {
        root html;
        access_log logs/a.log;
        content_by_js_block { ngx.say("http") }
        server {
          listen 127.0.0.1:8080 default_server;
          server_name example.com *.example.org www.example.* "~^(?P<sub>\\w+)\\.test$";
          set $who "world";
          location / { }
          location = /exact { return 200 "exact"; }
          location ^~ /static/ { root public; access_log off; }
          location ~* \\.(png|jpg)$ { content_by_js_file handlers/img.ts; }
          location @fallback { return 404; }
        }
      }`);
    expect(conf.workerProcesses).toBe(2);
    expect(conf.errorLog).toEqual([{ path: path.join(prefix, 'logs/error.log'), level: 'warn' }]);
    expect(conf.workerConnections).toBe(1024);
    expect(conf.multiAccept).toBe(false); // nginx's default
    expect(load('events { multi_accept on; }').conf.multiAccept).toBe(true);
    expect(errorOf('events { multi_accept yes; }').code).toBe('TRESTY_ERR_CONF_VALUE');
    const s = conf.http!.servers[0];
    expect(s.listen[0]).toMatchObject({ host: '127.0.0.1', port: 8080, defaultServer: true });
    expect(s.serverNames.map((n) => n.kind)).toEqual(['exact', 'wildcard_start', 'wildcard_end', 'regex']);
    expect(s.serverNames[3].regex!.exec('abc.test')!.groups!.sub).toBe('abc');
    expect(s.rewriteOps).toEqual([{ op: 'set', variable: 'who', value: 'world', ref: expect.any(Object) }]);
    expect([...s.declaredVariables]).toEqual(['who']);
    const [root, exact, stat, img] = s.locations;
    expect(root.handlers.content!.code).toContain('ngx.say("http")');
    expect(exact).toMatchObject({ modifier: '=', pattern: '/exact' });
    expect(exact.rewriteOps[0]).toMatchObject({ op: 'return', code: 200, text: 'exact' });
    expect(stat.root).toBe(path.join(prefix, 'public'));
    expect(stat.accessLog).toEqual(['off']);
    expect(root.accessLog).toEqual([{ path: path.join(prefix, 'logs/a.log'), format: 'combined' }]);
    expect(img.regex!.test('/A.PNG')).toBe(true);
    expect(img.handlers.content).toMatchObject({ source: 'file', path: path.join(prefix, 'handlers/img.ts') });
    expect(s.namedLocations.get('fallback')!.rewriteOps[0]).toMatchObject({ code: 404 });
    expect(Object.isFrozen(conf)).toBe(true);
    expect(Object.isFrozen(img)).toBe(true);
  });

  it('applies nginx defaults', () => {
    const { conf, prefix } = load('http { server { location / {} } }');
    expect(conf.workerProcesses).toBe(1);
    expect(conf.pid).toBe(path.join(prefix, 'logs/tresty.pid'));
    const loc = conf.http!.servers[0].locations[0];
    expect(loc).toMatchObject({ index: ['index.html'], clientMaxBodySize: 1048576, keepaliveTimeout: 75000, jsCodeCache: true });
    expect(conf.http!.logFormats.get('combined')).toContain('$remote_addr');
  });

  it('worker_processes auto is the number of available cores', () => {
    const { conf } = load('worker_processes auto;');
    expect(conf.workerProcesses).toBe(os.availableParallelism());
  });

  it('worker_cpu_affinity: masks are CPU numbers, rightmost digit CPU 0; auto with or without a mask', () => {
    expect(load('worker_cpu_affinity 0101 1000;').conf.workerCpuAffinity).toEqual({ auto: false, masks: [[0, 2], [3]] });
    expect(load('worker_cpu_affinity auto;').conf.workerCpuAffinity).toEqual({ auto: true, cpus: null });
    expect(load('worker_cpu_affinity auto 1010;').conf.workerCpuAffinity).toEqual({ auto: true, cpus: [1, 3] });
    expect(load('worker_processes 2;').conf.workerCpuAffinity).toBeNull();
    // Which CPUs worker N gets: auto cycles over its mask or over the CPUs the process may use
    // (a cpuset such as 4-5 is kept); masks are taken in turn, the last for the rest.
    expect([0, 1, 2].map((n) => workerCpus({ auto: true, cpus: null }, n, [4, 5]))).toEqual([[4], [5], [4]]);
    expect([0, 1, 2].map((n) => workerCpus({ auto: true, cpus: [1, 3] }, n, [0, 1, 2, 3]))).toEqual([[1], [3], [1]]);
    expect(workerCpus({ auto: true, cpus: [] }, 0, [0, 1])).toBeNull();
    const masks = { auto: false as const, masks: [[0], [1, 2]] };
    expect([0, 1, 2].map((n) => workerCpus(masks, n, [0]))).toEqual([[0], [1, 2], [1, 2]]);
    expect(maskCountWarning(masks, 3)).toMatch(/using last mask for remaining worker processes/);
    expect(maskCountWarning(masks, 2)).toBeNull();
    expect(maskCountWarning({ auto: false, masks: [[0]] }, 4)).toBeNull();
  });

  it('ffi_poller_cpu_affinity: same by default; next takes the next worker\'s CPUs, cycling', () => {
    expect(load('worker_processes 2;').conf.ffiPollerCpuAffinity).toBe('same');
    expect(load('worker_cpu_affinity auto;\nffi_poller_cpu_affinity next;').conf.ffiPollerCpuAffinity).toBe('next');
    expect(load('ffi_poller_cpu_affinity same;').conf.ffiPollerCpuAffinity).toBe('same');
    const auto = { auto: true as const, cpus: null };
    expect([0, 1].map((n) => pollerCpus(auto, n, 2, [0, 1]))).toEqual([[1], [0]]);
    expect(pollerCpus(auto, 0, 1, [0, 1])).toEqual([1]); // one worker: the next CPU of its list
    expect(pollerCpus(auto, 0, 1, [3])).toBeNull(); // one CPU: nowhere else to go
    const masks = { auto: false as const, masks: [[0], [1, 2], [3]] };
    expect([0, 1, 2].map((n) => pollerCpus(masks, n, 3, [0]))).toEqual([[1, 2], [3], [0]]);
    expect(pollerCpus({ auto: false, masks: [[0]] }, 0, 2, [0, 1])).toBeNull(); // one mask for all
  });

  it('ffi_poller_sched: other by default; fifo with one CPU per worker', () => {
    expect(load('worker_processes 2;').conf.ffiPollerSched).toBe('other');
    expect(load('ffi_poller_sched other;').conf.ffiPollerSched).toBe('other');
    expect(load('worker_cpu_affinity auto;\nffi_poller_sched fifo;').conf.ffiPollerSched).toBe('fifo');
    expect(load('worker_cpu_affinity auto 0110;\nffi_poller_sched fifo;').conf.ffiPollerSched).toBe('fifo');
    expect(load('worker_cpu_affinity 01 10;\nffi_poller_sched fifo;\nffi_poller_cpu_affinity same;').conf.ffiPollerSched).toBe('fifo');
  });

  it('a location replaces an inherited handler and inherits the others', () => {
    const { conf } = load(`http {
      access_by_js_block { ngx.ctx.a = 1 }
      server {
        content_by_js_block { ngx.say("server") }
        location /own { content_by_js_block { ngx.say("own") } }
        location /inherit { }
      } }`);
    const [own, inherit] = conf.http!.servers[0].locations;
    expect(own.handlers.content!.code).toContain('"own"');
    expect(own.handlers.access!.code).toContain('ngx.ctx.a');
    expect(inherit.handlers.content!.code).toContain('"server"');
  });

  it('keeps JS blocks verbatim, with braces in strings, templates, regexes and comments', () => {
    const js = `
        const s = "}{"; const t = '{';
        const tpl = \`a \${ {x: 1}.x } }\`;
        const re = /[}{]+\\}/g; // a } in a comment
        /* and { in a block comment */
        if (s.length > 1) { ngx.say(s + t + tpl + re.source); }
      `;
    const { conf } = load(`http { server { location / { content_by_js_block {${js}} } } }`);
    const h = conf.http!.servers[0].locations[0].handlers.content!;
    expect(h.code).toBe(js);
    expect(h.codeLine).toBe(1);
    expect(() => new Function(h.code!)).not.toThrow();
  });

  it('reports the conf line where a JS block starts', () => {
    const { conf } = load('http {\n server {\n  location / {\n   content_by_js_block {\n ngx.say(1)\n }\n }\n }\n}\n');
    const h = conf.http!.servers[0].locations[0].handlers.content!;
    expect(h.codeLine).toBe(4);
    expect(h.ref.line).toBe(4);
  });

  it('handles quotes, escapes and ${var}', () => {
    const { conf } = load(`http { server { location / {
      set $a "x \\"quoted\\" \\\\ \\n";
      set $b 'single {;} quote';
      set $c \${host}_\${uri};
      set $d "";
      return 200 "a\\.b";
    } } }`);
    const ops = conf.http!.servers[0].locations[0].rewriteOps;
    expect(ops.map((o) => (o.op === 'set' ? o.value : o.op === 'return' ? o.text : ''))).toEqual([
      'x "quoted" \\ \n', 'single {;} quote', '${host}_${uri}', '', 'a\\.b',
    ]);
  });

  it('expands include with globs relative to the conf folder, in sorted order', () => {
    const { conf, prefix, snapshot } = load('http { include conf.d/*.conf; include mime.types; }', {
      'conf/conf.d/b.conf': 'server { listen 9002; }',
      'conf/conf.d/a.conf': 'server { listen 9001; }',
      'conf/mime.types': 'types { text/html html htm; image/png png; }',
    });
    expect(conf.http!.servers.map((s) => s.listen[0].port)).toEqual([9001, 9002]);
    expect(conf.http!.mimeTypes.get('htm')).toBe('text/html');
    expect(Object.keys(snapshot.files)).toContain(path.join(prefix, 'conf/conf.d/a.conf'));
    expect(dumpConf(snapshot)).toContain(`# configuration file ${path.join(prefix, 'conf/mime.types')}:`);
  });

  it('a snapshot resolves the same conf without reading the disk', () => {
    const { conf, snapshot } = load('http { include conf.d/*.conf; }', { 'conf/conf.d/x.conf': 'server { listen 9009; }' });
    const again = loadConf({ file: conf.file, prefix: conf.prefix, snapshot: JSON.parse(JSON.stringify(snapshot)) });
    expect(again.conf.http!.servers[0].listen[0].port).toBe(9009);
  });

  it('applies -g directives', () => {
    const { conf } = load('http {}', {}, 'worker_processes 3; daemon off;');
    expect(conf.workerProcesses).toBe(3);
    expect(conf.daemon).toBe(false);
  });

  it('resolves ffi_plugin blocks with defaults', () => {
    const { conf, prefix } = load(`http {
      ffi_library_path native/build "/opt/lib;/usr/lib";
      ffi_plugin echo { library echo_c; config "threads=2"; format msgpack; max_queue 100; timeout 2s; }
      ffi_plugin hash { kind function; symbol sha256; library ./lib/libhash.so; }
    }`);
    expect(conf.ffiLibraryPath).toEqual([path.join(prefix, 'native/build'), '/opt/lib', '/usr/lib']);
    expect(conf.ffiPlugins.get('echo')).toMatchObject({ library: 'echo_c', config: 'threads=2', format: 'msgpack', maxQueue: 100, timeoutMs: 2000, kind: 'runtime' });
    expect(conf.ffiPlugins.get('hash')).toMatchObject({ kind: 'function', symbol: 'sha256', library: path.join(prefix, 'lib/libhash.so'), config: null, format: 'string' });
  });

  it('resolves max_response_size and blocking (issue 10, issue 11 item 7), with defaults', () => {
    const { conf } = load(`http {
      ffi_plugin echo { library echo_c; max_response_size 64k; }
      ffi_plugin crc { kind function; symbol crc32; library crc; blocking off; }
    }`);
    expect(conf.ffiPlugins.get('echo')).toMatchObject({ maxResponseSize: 65536, blocking: true });
    expect(conf.ffiPlugins.get('crc')).toMatchObject({ maxResponseSize: 16 * 1024 * 1024, blocking: false, kind: 'function' });
  });
});

describe('conf parser: errors name the file and line', () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['unknown directive', 'http {\n  server {\n    foo bar;\n  }\n}', 'TRESTY_ERR_CONF_UNKNOWN_DIRECTIVE', /unknown directive "foo" in .*nginx\.conf:3$/],
    ['wrong context', 'http {\n  listen 80;\n}', 'TRESTY_ERR_CONF_NOT_ALLOWED', /"listen" directive is not allowed here in .*nginx\.conf:2$/],
    ['handler in main', 'content_by_js_block { }', 'TRESTY_ERR_CONF_NOT_ALLOWED', /"content_by_js_block" directive is not allowed here in .*:1$/],
    ['wrong arity', 'http {\n server {\n  listen;\n }\n}', 'TRESTY_ERR_CONF_ARGS', /invalid number of arguments in "listen" directive in .*:3$/],
    ['duplicate', 'http {\n root a;\n root b;\n}', 'TRESTY_ERR_CONF_DUPLICATE', /"root" directive is duplicate in .*:3$/],
    ['duplicate phase handler', 'http { server { location / {\ncontent_by_js_block { }\ncontent_by_js_file a.js;\n} } }', 'TRESTY_ERR_CONF_DUPLICATE', /"content_by_js_file" directive is duplicate in .*:3$/],
    ['bad port', 'http {\n server {\n  listen 70000;\n }\n}', 'TRESTY_ERR_CONF_VALUE', /invalid port in "70000" of the "listen" directive in .*:3$/],
    ['bad size', 'http {\n client_max_body_size 12q;\n}', 'TRESTY_ERR_CONF_VALUE', /"client_max_body_size" directive invalid value "12q" in .*:2$/],
    ['bad flag', 'daemon maybe;', 'TRESTY_ERR_CONF_VALUE', /it must be "on" or "off" in .*:1$/],
    ['bad worker_processes', 'worker_processes lots;', 'TRESTY_ERR_CONF_VALUE', /invalid value "lots" in "worker_processes" directive in .*:1$/],
    ['bad cpu mask', 'worker_processes 2;\nworker_cpu_affinity 01x;', 'TRESTY_ERR_CONF_VALUE', /invalid character "x" in "worker_cpu_affinity" in .*:2$/],
    ['cpu mask too long', `worker_cpu_affinity ${'1'.repeat(1025)};`, 'TRESTY_ERR_CONF_VALUE', /"worker_cpu_affinity" supports up to 1024 CPUs only in .*:1$/],
    ['auto with two masks', 'worker_cpu_affinity auto 01 10;', 'TRESTY_ERR_CONF_ARGS', /invalid number of arguments in "worker_cpu_affinity" directive in .*:1$/],
    ['poller affinity value', 'ffi_poller_cpu_affinity other;', 'TRESTY_ERR_CONF_VALUE', /invalid value "other" in "ffi_poller_cpu_affinity" directive in .*:1$/],
    ['poller affinity next, workers unbound', 'worker_processes 2;\nffi_poller_cpu_affinity next;', 'TRESTY_ERR_CONF_VALUE', /"ffi_poller_cpu_affinity next" needs "worker_cpu_affinity" in .*:2$/],
    ['poller sched value', 'ffi_poller_sched rr;', 'TRESTY_ERR_CONF_VALUE', /invalid value "rr" in "ffi_poller_sched" directive in .*:1$/],
    ['poller sched fifo, workers unbound', 'worker_processes 2;\nffi_poller_sched fifo;', 'TRESTY_ERR_CONF_VALUE', /"ffi_poller_sched fifo" needs "worker_cpu_affinity" in .*:2$/],
    ['poller sched fifo, a mask of two CPUs', 'worker_cpu_affinity 01 11;\n\nffi_poller_sched fifo;', 'TRESTY_ERR_CONF_VALUE', /"ffi_poller_sched fifo" needs one CPU per "worker_cpu_affinity" mask in .*:3$/],
    ['poller sched fifo, pollers next', 'worker_cpu_affinity auto;\nffi_poller_cpu_affinity next;\nffi_poller_sched fifo;', 'TRESTY_ERR_CONF_VALUE', /"ffi_poller_sched fifo" cannot be used with "ffi_poller_cpu_affinity next" in .*:3$/],
    ['bad return code', 'http { server {\n return abc;\n} }', 'TRESTY_ERR_CONF_VALUE', /invalid return code "abc" in .*:2$/],
    ['bad variable name', 'http { server {\n set foo 1;\n} }', 'TRESTY_ERR_CONF_VALUE', /invalid variable name "foo" in .*:2$/],
    ['missing semicolon', 'http {\n server {\n  listen 80\n }\n}', 'TRESTY_ERR_CONF_SYNTAX', /unexpected "}" in .*:4$/],
    ['unclosed block', 'http {\n server {\n', 'TRESTY_ERR_CONF_SYNTAX', /unexpected end of file, expecting "}" in .*:3$/],
    ['stray brace', 'http { }\n}', 'TRESTY_ERR_CONF_SYNTAX', /unexpected "}" in .*:2$/],
    ['block expected', 'http;', 'TRESTY_ERR_CONF_SYNTAX', /directive "http" has no opening "{" in .*:1$/],
    ['unclosed JS block', 'http {\n server {\n  location / {\n   content_by_js_block {\n     ngx.say("}\n', 'TRESTY_ERR_CONF_SYNTAX', /JS block opened in .*:4$/],
    ['unknown log format', 'http {\n access_log logs/a.log nope;\n}', 'TRESTY_ERR_CONF_VALUE', /unknown log format "nope" in .*:2$/],
    ['bad location modifier', 'http { server {\n location ! /x { }\n} }', 'TRESTY_ERR_CONF_VALUE', /invalid location modifier "!" in .*:2$/],
    ['nested outside parent', 'http { server { location /a {\n location /b { }\n} } }', 'TRESTY_ERR_CONF_NOT_ALLOWED', /location "\/b" is outside location "\/a" in .*:2$/],
    ['bad regex', 'http { server {\n location ~ ( { }\n} }', 'TRESTY_ERR_CONF_VALUE', /invalid regex "\(": .* in .*:2$/],
    ['duplicate default server', 'http {\n server { listen 8080 default_server; }\n server { listen 8080 default_server; }\n}', 'TRESTY_ERR_CONF_DUPLICATE', /a duplicate default server for 0\.0\.0\.0:8080 in .*:3$/],
    ['bad ffi format', 'http { ffi_plugin x {\n format xml;\n} }', 'TRESTY_ERR_CONF_VALUE', /it must be one of raw, string, json, msgpack in .*:2$/],
    ['bad max_response_size', 'http { ffi_plugin x {\n max_response_size 1x;\n} }', 'TRESTY_ERR_CONF_VALUE', /max_response_size.* in .*:2$/],
    ['bad blocking', 'http { ffi_plugin x {\n blocking maybe;\n} }', 'TRESTY_ERR_CONF_VALUE', /blocking.* in .*:2$/],
    ['bad handler extension', 'http { server {\n content_by_js_file a.lua;\n} }', 'TRESTY_ERR_CONF_VALUE', /must end in \.js, \.mjs or \.ts in .*:2$/],
  ];
  for (const [what, conf, code, re] of cases) {
    it(what, () => {
      const e = errorOf(conf);
      expect(e.code).toBe(code);
      expect(e.message).toMatch(re);
    });
  }

  it('an error inside an included file names that file', () => {
    const e = errorOf('http {\n include extra.conf;\n}', { 'conf/extra.conf': 'server {\n  bogus;\n}' });
    expect(e.message).toMatch(/unknown directive "bogus" in .*extra\.conf:2$/);
  });

  it('a missing include names the including line', () => {
    const e = errorOf('http {\n include missing.conf;\n}');
    expect(e.code).toBe('TRESTY_ERR_CONF_OPEN');
    expect(e.message).toMatch(/open\(\) ".*missing\.conf" failed \(2: No such file or directory\) in .*nginx\.conf:2$/);
  });

  it('a missing main file is a clear error', () => {
    const prefix = prefixWith({});
    expect(() => loadConf({ file: 'conf/nginx.conf', prefix })).toThrow(/open\(\) ".*conf\/nginx\.conf" failed \(2: No such file or directory\)/);
  });
});
