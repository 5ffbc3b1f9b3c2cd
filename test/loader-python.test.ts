// The Python loader (native/loaders/python) in the real server: modules written for lua-resty-ffi's
// Python loader run unchanged, 1,000 concurrent calls, every failure rule with its traceback,
// unload and reload with "?", one interpreter per worker, and a module that keeps the GIL busy
// never holds up the worker's other requests.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBusyPluginBlocksNothing, checkExamples, failingStart, LOAD_LOCATION, load, pythonSkip, startExample, until } from './helpers/loaders.js';
import { freePort, httpGet, ROOT, startTresty, type TrestyProcess } from './helpers/server.js';

const skip = pythonSkip();
const EXAMPLES = path.join(ROOT, 'native', 'loaders', 'examples', 'python');

// Modules for the tests; CFFI is the header every lua-resty-ffi Python module starts with.
const CFFI = `from cffi import FFI
ffi = FFI()
ffi.cdef("""
char *strdup(const char *s);
void *ngx_http_lua_ffi_task_poll(void *p);
char *ngx_http_lua_ffi_get_req(void *tsk, int *len);
void ngx_http_lua_ffi_respond(void *tsk, int rc, char *rsp, int rsp_len);
""")
C = ffi.dlopen(None)
import threading
`;
const serve = (name: string, answer: string) => `
def poll(tq):
    while True:
        task = C.ngx_http_lua_ffi_task_poll(ffi.cast("void*", tq))
        if task == ffi.NULL:
            break
        req = ffi.string(C.ngx_http_lua_ffi_get_req(task, ffi.NULL)).decode()
        C.ngx_http_lua_ffi_respond(task, 0, C.strdup((${answer}).encode()), 0)

def init(cfg, tq):
    threading.Thread(target=poll, args=(tq,), name=${JSON.stringify(name)}, daemon=True).start()
    return 0
`;
const MODULES: Record<string, string> = {
  // lua-resty-ffi's own echo shape: C strings (get_req with NULL length, strdup, rsp_len 0).
  'py/compat_echo.py': CFFI + `
class State:
    def poll(self, tq):
        while True:
            task = C.ngx_http_lua_ffi_task_poll(ffi.cast("void*", tq))
            if task == ffi.NULL:
                break
            req = C.ngx_http_lua_ffi_get_req(task, ffi.NULL)
            res = C.strdup(req)
            C.ngx_http_lua_ffi_respond(task, 0, res, 0)

def init(cfg, tq):
    st = State()
    t = threading.Thread(target=st.poll, args=(tq,))
    t.daemon = True
    t.start()
    return 0
`,
  // What init was given, and which interpreter and process it runs in.
  'py/info.py': CFFI + `import json, os, sys
REST = None
def answer(req):
    return json.dumps({"rest": REST, "sys": id(sys), "pid": os.getpid(),
                       "hot_pollers": sum(t.name == "hot-poll" for t in threading.enumerate())})
` + serve('info', 'answer(req)').replace('def init(cfg, tq):', `def init(cfg, tq):
    global REST
    REST = ffi.string(ffi.cast("char *", cfg)).decode() if cfg else None`),
  'py/hot.py': CFFI + 'VERSION = "v1"\n' + serve('hot-poll', 'VERSION'),
  // Two pollers: "spin" keeps the GIL busy (pure Python) until "release" comes on the other.
  'py/spin.py': CFFI + `import time
spinning = threading.Event()
released = threading.Event()
def work(req):
    if req == "spin":
        spinning.set()
        n = 0
        deadline = time.monotonic() + 60
        while not released.is_set() and time.monotonic() < deadline:
            n += 1
        spinning.clear()
        return "spun %s" % ("until released" if released.is_set() else "until the deadline")
    if req == "release":
        released.set()
        return "released"
    return "quick spinning=%s" % spinning.is_set()
` + serve('spin', 'work(req)').replace(
    'threading.Thread(target=poll, args=(tq,), name="spin", daemon=True).start()',
    'for _ in range(2): threading.Thread(target=poll, args=(tq,), name="spin", daemon=True).start()'),
  'py/bad_import.py': 'import no_such_module_for_tresty\n',
  'py/raises.py': 'def init(cfg, tq):\n    return 1 / 0\n',
  'py/rc3.py': 'def init(cfg, tq):\n    return 3\n',
  'py/returns_none.py': 'def init(cfg, tq):\n    pass\n',
  'other/alone.py': CFFI + serve('alone', '"alone " + req'),
};

function conf(port: number): string {
  return `worker_processes 1;
error_log logs/error.log info;
events {}
http {
    ffi_library_path ${path.join(ROOT, 'native', 'build')};
    ffi_plugin echo_py {
        library ffi_python3;
        config "tresty_examples.echo,init,threads=2";
        python_path ${EXAMPLES};
        format string;
    }
    ffi_plugin sha_py {
        library ffi_python3;
        config "tresty_examples.digest,init,algo=sha256,threads=2";
        python_path ${EXAMPLES};
    }
    ffi_plugin spin { library ffi_python3; config "spin,init"; python_path py; timeout 90s; }
    server {
        listen 127.0.0.1:${port};
        ${LOAD_LOCATION}
        location = /echo { content_by_js_block { ngx.print(await ngx.ffi.echo_py.call(ngx.var.arg_m ?? '')) } }
        location = /js { content_by_js_block { ngx.say('js ', process.pid) } }
        location = /spin { content_by_js_block { ngx.say(await ngx.ffi.spin.call(ngx.var.arg_m)) } }
        location = /uncaught {
            content_by_js_block { ngx.load_ffi('ffi_python3', 'bad_import,init', { pythonPath: [ngx.config.prefix() + 'py'] }) }
        }
    }
}
`;
}

(skip ? describe.skip : describe)(`the Python loader${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let t: TrestyProcess;
  let port: number;
  let py: string;
  let envDir: string;
  beforeAll(async () => {
    port = await freePort();
    envDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-pyenv-'));
    fs.writeFileSync(path.join(envDir, 'from_env.py'), CFFI + serve('env', '"env " + req'));
    t = await startTresty(conf(port), { files: MODULES, env: { PYTHONPATH: envDir } });
    py = path.join(t.prefix, 'py');
  });
  afterAll(async () => {
    await t?.stop();
    if (envDir) fs.rmSync(envDir, { recursive: true, force: true });
  });

  it('runs the examples from ffi_plugin blocks: 1,000 concurrent calls each', async () => {
    await checkExamples(port, 'ffi_python3', { cfg: 'tresty_examples.echo,init,threads=2', pythonPath: [EXAMPLES] },
      { cfg: 'tresty_examples.digest,init,algo=sha256,threads=2', pythonPath: [EXAMPLES] });
  });

  it('runs a module written for lua-resty-ffi unchanged, and "dir/module" puts dir on sys.path', async () => {
    const r = await load(port, { lib: 'ffi_python3', cfg: 'compat_echo,init', pythonPath: [py], req: 'c', n: 1000 });
    expect(r.ok).toBe(true);
    r.answers!.forEach((a, i) => expect(a).toBe(`c${i}`));
    const alone = await load(port, { lib: 'ffi_python3', cfg: `${t.prefix}/other/alone,init`, req: 'x' });
    expect(alone).toEqual({ ok: true, answers: ['alone x'] });
  });

  it('finds modules on PYTHONPATH too', async () => {
    expect(await load(port, { lib: 'ffi_python3', cfg: 'from_env,init', req: 'x' })).toEqual({ ok: true, answers: ['env x'] });
  });

  it('gives FUNC the address of REST (commas and all, 0 when absent); one interpreter per worker', async () => {
    const a = await load(port, { lib: 'ffi_python3', cfg: 'info,init,a=1,b=2,,c', pythonPath: [py], req: '' });
    const infoA = JSON.parse(a.answers![0]);
    expect(infoA.rest).toBe('a=1,b=2,,c');
    const pid = Number((await httpGet(port, '/js')).body.split(' ')[1]);
    expect(infoA.pid).toBe(pid);
    await load(port, { lib: 'ffi_python3', cfg: 'info,init,a=1,b=2,,c', pythonPath: [py], req: '', unload: true });
    // The same module under another config: the module is shared, so REST is the latest one, and
    // the interpreter (its sys module) is the same.
    const b = await load(port, { lib: 'ffi_python3', cfg: 'info,init', pythonPath: [py], req: '' });
    const infoB = JSON.parse(b.answers![0]);
    expect(infoB.rest).toBe(null);
    expect(infoB.sys).toBe(infoA.sys);
  });

  it('fails a load on every rule with TRESTY_ERR_FFI_INIT and the Python traceback', async () => {
    const cases: [string, RegExp][] = [
      // (import machinery frames are left out, so a missing module has no frames to show)
      ['no_such_module,init', /cannot import module no_such_module\nModuleNotFoundError: No module named 'no_such_module'/],
      ['bad_import,init', /cannot import module bad_import\nTraceback[^]*bad_import\.py", line 1[^]*No module named 'no_such_module_for_tresty'/],
      ['info,nofunc', /module info has no function nofunc[^]*AttributeError: module 'info' has no attribute 'nofunc'/],
      ['raises,init', /raises\.init raised an exception\nTraceback[^]*raises\.py", line 2, in init[^]*ZeroDivisionError: division by zero/],
      ['rc3,init', /rc3\.init returned 3, not 0/],
      ['returns_none,init', /returns_none\.init returned None, not 0/],
      ['info', /config "info": expected "MODULE\[\?\],FUNC\[,REST\]"/],
      [',init', /expected "MODULE\[\?\],FUNC\[,REST\]"/],
    ];
    for (const [cfg, message] of cases) {
      const r = await load(port, { lib: 'ffi_python3', cfg, pythonPath: [py], req: 'x' });
      expect(r.ok, cfg).toBe(false);
      expect(r.code, cfg).toBe('TRESTY_ERR_FFI_INIT');
      expect(r.message, cfg).toMatch(message);
    }
    const noCfg = await load(port, { lib: 'ffi_python3', cfg: null, req: 'x' });
    expect(noCfg).toMatchObject({ ok: false, code: 'TRESTY_ERR_FFI_INIT' });
    expect(noCfg.message).toContain('config NULL: expected');
    // A class_path is for the Java loader.
    const wrong = await load(port, { lib: 'ffi_python3', cfg: 'info,init', classPath: ['/tmp'], req: 'x' });
    expect(wrong).toMatchObject({ ok: false, code: 'TRESTY_ERR_FFI_SYMBOL' });
    expect(wrong.message).toContain('class_path is set, but');
    // After all that the worker still serves, and its plugins still answer.
    expect((await httpGet(port, '/echo?m=still')).body).toBe('still');
  });

  it('writes the traceback of a load that a handler does not catch to the error log', async () => {
    const r = await httpGet(port, '/uncaught');
    expect(r.status).toBe(500);
    const log = await until(async () => t.errorLog(), (l) => l.includes('no_such_module_for_tresty'));
    expect(log).toMatch(/\[error\].*js entry thread aborted: runtime error: .*libffi_init of \S+libffi_python3\.so returned 1 \(config "bad_import,init"\): python: cannot import module bad_import \(TRESTY_ERR_HANDLER, TRESTY_ERR_FFI_INIT\)\nTraceback \(most recent call last\):\n[^]*ModuleNotFoundError: No module named 'no_such_module_for_tresty'/);
  });

  it('reuses a cached module, and reloads it with "?"; unloading ends its pollers', async () => {
    const hot = path.join(py, 'hot.py');
    const cfg = (c: string) => ({ lib: 'ffi_python3', cfg: c, pythonPath: [py], req: 'x', unload: true });
    expect((await load(port, cfg('hot,init'))).answers).toEqual(['v1']);
    // A different length than v1: Python's bytecode cache tells sources apart by mtime and size.
    fs.writeFileSync(hot, fs.readFileSync(hot, 'utf8').replace('VERSION = "v1"', 'VERSION = "version 2"'));
    expect((await load(port, cfg('hot,init'))).answers).toEqual(['v1']);
    expect((await load(port, cfg('hot?,init'))).answers).toEqual(['version 2']);
    expect((await load(port, cfg('hot,init'))).answers).toEqual(['version 2']);
    // Every plugin above was unloaded after its call: its poller left task_poll and ended.
    const info = () => load(port, { lib: 'ffi_python3', cfg: 'info,init', pythonPath: [py], req: '' });
    const last = await until(info, (r) => JSON.parse(r.answers![0]).hot_pollers === 0);
    expect(JSON.parse(last.answers![0]).hot_pollers).toBe(0);
  });

  it('a module that keeps the GIL busy holds up no other request of the worker', async () => {
    // The other poller of the same module answers while the first one spins: Python hands the
    // GIL over, and the event loop never waits for it.
    await checkBusyPluginBlocksNothing(port, 'True');
  });
});

(skip ? describe.skip : describe)(`Python plugins in the conf${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('a module that fails at start is an [emerg] with the traceback and the ffi_plugin line', async () => {
    const { test, start } = await failingStart((port) => `worker_processes 1;
events {}
http {
    ffi_plugin bad { library ffi_python3; config "raises,init"; python_path py; }
    server { listen 127.0.0.1:${port}; }
}
`, { 'py/raises.py': MODULES['py/raises.py']! });
    expect(test.code).toBe(0); // -t finds the loader without running Python
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/\[emerg\] libffi_init of \S+libffi_python3\.so returned 1 \(config "raises,init"\): python: raises\.init raised an exception\nTraceback[^]*ZeroDivisionError: division by zero\n? in \S+nginx\.conf:4/);
  });

  it('conf/examples/python.conf serves its three locations', async () => {
    const { t, port } = await startExample('python');
    try {
      expect((await httpGet(port, '/echo', { method: 'POST', body: 'hello' })).body).toBe('hello');
      expect((await httpGet(port, '/sha256', { method: 'POST', body: 'hello' })).body)
        .toBe(createHash('sha256').update('hello').digest('hex') + '\n');
      expect((await httpGet(port, '/digest?algo=sha3_256&msg=hi')).body)
        .toBe(`sha3_256 ${createHash('sha3-256').update('hi').digest('hex')}\n`);
    } finally {
      await t.stop();
    }
  });
});
