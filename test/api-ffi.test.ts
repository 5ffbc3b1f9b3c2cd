// ngx.ffi.NAME (ffi_plugin blocks, loaded at worker start) and ngx.load_ffi from handlers,
// through the real server. Skipped when the native libraries are not built.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe } from 'vitest';
import { phaseSuite, type Case } from './helpers/phases-harness.js';
import { ROOT } from './helpers/server.js';

const build = path.join(ROOT, 'native', 'build');
const built = fs.existsSync(path.join(build, 'libecho_c.so')) && fs.existsSync(path.join(build, 'libtresty_host.so'));

const cases: Case[] = [
  {
    name: 'ngx.ffi.NAME from the conf answers without blocking',
    conf: `location = /ffi-conf {
      content_by_js_block { ngx.say(await ngx.ffi.echo.call("ping " + ngx.var.arg_n)) }
    }`,
    requests: [{ path: '/ffi-conf?n=1', status: 200, resBody: 'ping 1\n' }],
  },
  {
    name: 'ngx.load_ffi in a handler; a second load shares the instance',
    conf: `location = /ffi-load {
      content_by_js_block {
        const p = ngx.load_ffi("${path.join(build, 'libecho_c.so')}", null, { format: "json" });
        const again = ngx.load_ffi("${path.join(build, 'libecho_c.so')}", null, { format: "json" });
        const res = await p.call({ a: [1, 2] });
        ngx.say(JSON.stringify(res), " ", p === again);
      }
    }`,
    requests: [{ path: '/ffi-load', status: 200, resBody: '{"a":[1,2]} true\n' }],
  },
  {
    name: 'a missing library is an error with a stable code',
    conf: `location = /ffi-missing {
      content_by_js_block { try { ngx.load_ffi("no_such_lib") } catch (e) { ngx.say(e.code) } }
    }`,
    requests: [{ path: '/ffi-missing', status: 200, resBody: 'TRESTY_ERR_FFI_NOT_FOUND\n' }],
  },
];

(built ? describe : describe.skip)('ngx ffi', () => {
  phaseSuite('through the conf and load_ffi', {
    http: `ffi_library_path ${build};
    ffi_plugin echo { library echo_c; format string; }`,
  }, cases);
});

// A library only ffi_library_path knows (a copy under another name in a folder of its own).
(built ? describe : describe.skip)('ngx.load_ffi and ffi_library_path', () => {
  const dir = built ? fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-ffi-path-')) : '';
  if (built) fs.copyFileSync(path.join(build, 'libecho_c.so'), path.join(dir, 'libecho_elsewhere.so'));
  afterAll(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });
  phaseSuite('a bare name is found on ffi_library_path, as ffi_plugin finds it', {
    http: `ffi_library_path ${dir};`,
  }, [{
    name: 'ngx.load_ffi("echo_elsewhere")',
    conf: `location = /ffi-load-path {
      content_by_js_block { ngx.say(await ngx.load_ffi("echo_elsewhere").call("by name")) }
    }`,
    requests: [{ path: '/ffi-load-path', status: 200, resBody: 'by name\n' }],
  }]);
});
