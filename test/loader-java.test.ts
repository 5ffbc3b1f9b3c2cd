// The Java loader (native/loaders/java) in the real server: classes written for lua-resty-ffi's
// Java loader (jnr-ffi, LibraryLoader.DEFAULT_LIBRARY) run unchanged, 1,000 concurrent calls, every
// failure rule with its stack trace, "?" loads a changed class, one JVM per worker, and a class
// that computes holds up no other request.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD, checkBusyPluginBlocksNothing, checkExamples, failingStart, javaBuild, javaSkip, LOAD_LOCATION, load, startExample, until } from './helpers/loaders.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

const skip = javaSkip();
const EXAMPLES_JAR = path.join(BUILD, 'java', 'tresty-examples.jar');

// Test classes. Serve is what each lua-resty-ffi Java plugin carries: the ABI through jnr-ffi and
// a poll loop on threads of its own.
const SERVE = `package t;
import java.util.function.UnaryOperator;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.byref.IntByReference;
public class Serve {
    public interface FFI {
        Pointer ngx_http_lua_ffi_task_poll(@In Pointer tq);
        Pointer ngx_http_lua_ffi_get_req(@In Pointer task, @Out IntByReference len);
        void ngx_http_lua_ffi_respond(@In Pointer tsk, @In int rc, @In Pointer rsp, @In int rsp_len);
    }
    public interface Libc { Pointer malloc(int size); }
    static final FFI ffi = LibraryLoader.create(FFI.class).load(LibraryLoader.DEFAULT_LIBRARY);
    static final Libc libc = LibraryLoader.create(Libc.class).load("c");
    public static void start(long tqAddress, String name, int threads, UnaryOperator<String> f) {
        Pointer tq = Pointer.wrap(jnr.ffi.Runtime.getSystemRuntime(), tqAddress);
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                IntByReference len = new IntByReference();
                for (;;) {
                    Pointer task = ffi.ngx_http_lua_ffi_task_poll(tq);
                    if (task == null) return;
                    Pointer req = ffi.ngx_http_lua_ffi_get_req(task, len);
                    byte[] in = new byte[len.intValue()];
                    req.get(0, in, 0, in.length);
                    byte[] out = f.apply(new String(in, java.nio.charset.StandardCharsets.UTF_8)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    Pointer rsp = libc.malloc(out.length + 1);
                    rsp.put(0, out, 0, out.length);
                    rsp.putByte(out.length, (byte) 0);
                    ffi.ngx_http_lua_ffi_respond(task, 0, rsp, out.length);
                }
            }, name);
            t.setDaemon(true);
            t.start();
        }
    }
}
`;
const cls = (name: string, body: string) => `package t;\npublic class ${name} {\n${body}\n}\n`;
const HOT = (version: string) => cls('Hot', `
    static final String VERSION = "${version}";
    public static int init(String rest, long tq) { Serve.start(tq, "hot-poll", 1, req -> VERSION); return 0; }`);
const SOURCES: Record<string, string> = {
  'Serve.java': SERVE,
  'Info.java': cls('Info', `
    static String rest;
    public static int init(String r, long tq) {
        rest = r;
        System.setProperty("tresty.seen", System.getProperty("tresty.seen", "") + "+info");
        Serve.start(tq, "info", 1, req -> "rest=[" + rest + "] pid=" + ProcessHandle.current().pid()
            + " seen=" + System.getProperty("tresty.seen") + " mx=" + (Runtime.getRuntime().maxMemory() >> 20)
            + " hot=" + Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("hot-poll")).count());
        return 0;
    }`),
  'Hot.java': HOT('v1'),
  'Throws.java': cls('Throws', '    public static int init(String rest, long tq) { throw new IllegalStateException("boom from init"); }'),
  'Rc3.java': cls('Rc3', '    public static int init(String rest, long tq) { return 3; }'),
  'NotStatic.java': cls('NotStatic', '    public int init(String rest, long tq) { return 0; }'),
  'BadStatic.java': cls('BadStatic', `
    static final int X = Integer.parseInt("not a number");
    public static int init(String rest, long tq) { return 0; }`),
  // Compiled Java code takes SIGSEGV for null checks; the JVM's handler must chain to Node's.
  'Npe.java': cls('Npe', `
    static int len(String s) { return s.length(); }
    public static int init(String rest, long tq) {
        int caught = 0;
        for (int i = 0; i < 2_000_000; i++) {
            try { len(i % 1000 == 0 ? null : "abc"); } catch (NullPointerException e) { caught++; }
        }
        final int n = caught;
        Serve.start(tq, "npe", 1, req -> "caught " + n);
        return 0;
    }`),
  'Spin.java': cls('Spin', `
    static volatile boolean spinning, released;
    public static int init(String rest, long tq) {
        Serve.start(tq, "spin", 2, req -> {
            if (req.equals("spin")) {
                spinning = true;
                long deadline = System.nanoTime() + 60_000_000_000L, n = 0;
                while (!released && System.nanoTime() < deadline) n++;
                spinning = false;
                return released ? "spun until released" : "spun until the deadline";
            }
            if (req.equals("release")) { released = true; return "released"; }
            return "quick spinning=" + spinning;
        });
        return 0;
    }`),
};

function javac(out: string, files: string[], extraCp: string[] = []): void {
  const b = javaBuild();
  execFileSync(path.join(b.javaHome, 'bin', 'javac'), ['-nowarn', '--release', '11', '-cp', [b.jnrClassPath, ...extraCp].join(':'), '-d', out, ...files],
    { stdio: 'pipe' });
}

function conf(port: number): string {
  return `worker_processes 1;
error_log logs/error.log info;
events {}
http {
    ffi_library_path ${BUILD};
    ffi_plugin echo_java {
        library ffi_java;
        config "tresty.examples.Echo,init,threads=2";
        class_path ${EXAMPLES_JAR};
        format string;
    }
    ffi_plugin spin { library ffi_java; config "t.Spin,init"; class_path classes; timeout 90s; }
    server {
        listen 127.0.0.1:${port};
        ${LOAD_LOCATION}
        location = /echo { content_by_js_block { ngx.print(await ngx.ffi.echo_java.call(ngx.var.arg_m ?? '')) } }
        location = /js { content_by_js_block { ngx.say('js ', process.pid) } }
        location = /wasm {
            content_by_js_block {
                // f(addr) loads from a 1-page memory: an address past it is a SIGSEGV that V8's trap handler turns into an error
                const wasm = new Uint8Array([0,97,115,109,1,0,0,0,1,6,1,96,1,127,1,127,3,2,1,0,5,3,1,0,1,7,5,1,1,102,0,0,10,9,1,7,0,32,0,40,2,0,11]);
                const { instance } = await WebAssembly.instantiate(wasm);
                try { instance.exports.f(1 << 20); ngx.say('no trap'); } catch (e) { ngx.say(e.constructor.name, ': ', e.message); }
            }
        }
        location = /spin { content_by_js_block { ngx.say(await ngx.ffi.spin.call(ngx.var.arg_m)) } }
        location = /uncaught { content_by_js_block { ngx.load_ffi('ffi_java', 't.Throws,init', { classPath: [ngx.config.prefix() + 'classes'] }) } }
    }
}
`;
}

(skip ? describe.skip : describe)(`the Java loader${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let t: TrestyProcess;
  let port: number;
  let src: string;
  let classes: string;
  let envDir: string;
  beforeAll(async () => {
    src = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-java-src-'));
    fs.mkdirSync(path.join(src, 't'));
    for (const [f, text] of Object.entries(SOURCES)) fs.writeFileSync(path.join(src, 't', f), text);
    envDir = path.join(src, 'env');
    fs.mkdirSync(path.join(src, 'e'));
    fs.writeFileSync(path.join(src, 'e', 'FromEnv.java'), `package e;
public class FromEnv { public static int init(String rest, long tq) { t.Serve.start(tq, "env", 1, req -> "env " + req); return 0; } }
`);
    javac(path.join(src, 'classes'), Object.keys(SOURCES).map((f) => path.join(src, 't', f)));
    javac(envDir, [path.join(src, 'e', 'FromEnv.java')], [path.join(src, 'classes')]);
    port = await freePort();
    // CLASSPATH reaches the JVM: e.FromEnv there, and t.Serve (which it needs) from the classes.
    // JAVA_OPTS, split on spaces, reach the JVM (and keep it small beside the other tests).
    const env = { CLASSPATH: `${envDir}:${path.join(src, 'classes')}`, JAVA_OPTS: '-Xmx96m  -XX:+UseSerialGC -XX:TieredStopAtLevel=1' };
    t = await startTresty(conf(port), { env, timeoutMs: 30_000 });
    classes = path.join(t.prefix, 'classes');
    fs.cpSync(path.join(src, 'classes'), classes, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    if (src) fs.rmSync(src, { recursive: true, force: true });
  });

  it('runs the examples: 1,000 concurrent calls each, through the conf and load_ffi', async () => {
    await checkExamples(port, 'ffi_java', { cfg: 'tresty.examples.Echo,init,threads=2', classPath: [EXAMPLES_JAR] },
      { cfg: 'tresty.examples.Digest,init,algo=SHA-256,threads=2', classPath: [EXAMPLES_JAR] });
  });

  it('passes REST as a String ("" when absent) and the tq; one JVM per worker; CLASSPATH and JAVA_OPTS reach it', async () => {
    const a = await load(port, { lib: 'ffi_java', cfg: 't.Info,init,a=1,,b', classPath: [classes], req: '' });
    const pid = (await httpGet(port, '/js')).body.trim().split(' ')[1];
    expect(a.answers![0]).toMatch(new RegExp(`^rest=\\[a=1,,b\\] pid=${pid} seen=\\+info mx=(\\d+) hot=0$`));
    expect(Number(/mx=(\d+)/.exec(a.answers![0])![1])).toBeLessThanOrEqual(96); // -Xmx96m
    const b = await load(port, { lib: 'ffi_java', cfg: 't.Info,init', classPath: [classes], req: '' });
    expect(b.answers![0]).toMatch(new RegExp(`^rest=\\[\\] pid=${pid} seen=\\+info\\+info `)); // the same JVM saw both
    expect(await load(port, { lib: 'ffi_java', cfg: 'e.FromEnv,init', req: 'x' })).toEqual({ ok: true, answers: ['env x'] });
  });

  it('fails a load on every rule with TRESTY_ERR_FFI_INIT and the Java stack trace', async () => {
    const cases: [string, RegExp][] = [
      ['t.Nope,init', /java: class t\.Nope not found \(class_path: \S+classes; CLASSPATH: \S+\)\njava\.lang\.ClassNotFoundException: t\.Nope\n\s+at /],
      ['t.Info,nomethod', /class t\.Info has no method static int nomethod\(String rest, long tq\)\njava\.lang\.NoSuchMethodException: t\.Info\.nomethod\(java\.lang\.String, ?long\)/],
      ['t.NotStatic,init', /t\.NotStatic\.init must be declared static int init\(String rest, long tq\)/],
      ['t.Throws,init', /t\.Throws\.init threw an exception\njava\.lang\.IllegalStateException: boom from init\n\s+at t\.Throws\.init\(Throws\.java:3\)/],
      ['t.BadStatic,init', /class t\.BadStatic failed to load\njava\.lang\.ExceptionInInitializerError[^]*NumberFormatException: For input string: "not a number"/],
      ['t.Rc3,init', /t\.Rc3\.init returned 3, not 0/],
      ['t.Info', /config "t\.Info": expected "pkg\.Class\[\?\],staticMethod\[,REST\]"/],
    ];
    for (const [cfg, message] of cases) {
      const r = await load(port, { lib: 'ffi_java', cfg, classPath: [classes], req: 'x' });
      expect(r.ok, cfg).toBe(false);
      expect(r.code, cfg).toBe('TRESTY_ERR_FFI_INIT');
      expect(r.message, cfg).toMatch(message);
    }
    const wrong = await load(port, { lib: 'ffi_java', cfg: 't.Info,init', pythonPath: ['/tmp'], req: 'x' });
    expect(wrong).toMatchObject({ ok: false, code: 'TRESTY_ERR_FFI_SYMBOL' });
    expect((await httpGet(port, '/echo?m=still')).body).toBe('still');
  });

  it('writes the stack trace of a load that a handler does not catch to the error log', async () => {
    expect((await httpGet(port, '/uncaught')).status).toBe(500);
    const log = await until(async () => t.errorLog(), (l) => l.includes('boom from init'));
    expect(log).toMatch(/\[error\].*js entry thread aborted: runtime error: .*libffi_init of \S+libffi_java\.so returned 1 \(config "t\.Throws,init"\): java: t\.Throws\.init threw an exception \(TRESTY_ERR_HANDLER, TRESTY_ERR_FFI_INIT\)\njava\.lang\.IllegalStateException: boom from init\n\s+at t\.Throws\.init/);
  });

  it('reuses a loaded class, and loads a changed one with "?"; unloading ends its pollers', async () => {
    const cfg = (c: string) => ({ lib: 'ffi_java', cfg: c, classPath: [classes], req: 'x', unload: true });
    expect((await load(port, cfg('t.Hot,init'))).answers).toEqual(['v1']);
    fs.writeFileSync(path.join(src, 't', 'Hot.java'), HOT('version 2'));
    javac(classes, [path.join(src, 't', 'Hot.java')], [classes]);
    expect((await load(port, cfg('t.Hot,init'))).answers).toEqual(['v1']);
    expect((await load(port, cfg('t.Hot?,init'))).answers).toEqual(['version 2']);
    expect((await load(port, cfg('t.Hot,init'))).answers).toEqual(['version 2']);
    const info = () => load(port, { lib: 'ffi_java', cfg: 't.Info,init', classPath: [classes], req: '' });
    const last = await until(info, (r) => r.answers![0].endsWith(' hot=0'));
    expect(last.answers![0]).toMatch(/ hot=0$/);
  });

  it('the JVM and V8 share SIGSEGV: Java null checks and WebAssembly traps both work', async () => {
    // The worker has had a JVM since it started (echo_java): a wasm trap still reaches V8's handler.
    expect((await httpGet(port, '/wasm')).body).toBe('RuntimeError: memory access out of bounds\n');
    expect(await load(port, { lib: 'ffi_java', cfg: 't.Npe,init', classPath: [classes], req: 'x', unload: true }))
      .toEqual({ ok: true, answers: ['caught 2000'] });
    expect((await httpGet(port, '/wasm')).body).toBe('RuntimeError: memory access out of bounds\n');
    expect((await httpGet(port, '/echo?m=alive')).body).toBe('alive');
  });

  it('a class that computes holds up no other request of the worker', async () => {
    await checkBusyPluginBlocksNothing(port, 'true');
  });
});

(skip ? describe.skip : describe)(`Java plugins in the conf${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('a class that fails at start is an [emerg] with the stack trace and the ffi_plugin line', async () => {
    const { test, start } = await failingStart((port) => `worker_processes 1;
events {}
http {
    ffi_plugin bad { library ffi_java; config "tresty.examples.Digest,init,algo=NO-SUCH-HASH"; class_path ${EXAMPLES_JAR}; }
    server { listen 127.0.0.1:${port}; }
}
`);
    expect(test.code).toBe(0); // -t finds the loader without starting a JVM
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/\[emerg\] libffi_init of \S+libffi_java\.so returned 1 \(config "tresty\.examples\.Digest,init,algo=NO-SUCH-HASH"\): java: tresty\.examples\.Digest\.init threw an exception\njava\.security\.NoSuchAlgorithmException: NO-SUCH-HASH MessageDigest not available[^]* in \S+nginx\.conf:4/);
  });

  it('conf/examples/java.conf serves its three locations', async () => {
    const { t, port } = await startExample('java');
    try {
      expect((await httpGet(port, '/echo', { method: 'POST', body: 'hello' })).body).toBe('hello');
      expect((await httpGet(port, '/sha256', { method: 'POST', body: 'hello' })).body)
        .toBe(createHash('sha256').update('hello').digest('hex') + '\n');
      expect((await httpGet(port, '/digest?algo=SHA-512&msg=hi')).body)
        .toBe(`SHA-512 ${createHash('sha512').update('hi').digest('hex')}\n`);
    } finally {
      await t.stop();
    }
  });
});
