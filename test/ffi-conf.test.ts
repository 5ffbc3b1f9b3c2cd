// ffi_plugin blocks as the conf meets them: `-t` finds each library without loading it, and a
// library that is missing at start is an [emerg] naming the block's file:line, with exit code 1.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, makePrefix, ROOT, runTresty } from './helpers/server.js';

const build = path.join(ROOT, 'native', 'build');
const built = existsSync(path.join(build, 'libtresty_host.so')) && existsSync(path.join(build, 'libecho_c.so'));

function conf(port: number, plugin: string): string {
  return `worker_processes 1;
error_log logs/error.log info;
events {}
http {
  ffi_library_path ${build};
  ${plugin}
  server { listen 127.0.0.1:${port}; location / { return 200 ok; } }
}
`;
}

describe('ffi_plugin in the conf', () => {
  it('-t passes when every plugin library is found', async () => {
    const prefix = makePrefix(conf(await freePort(), 'ffi_plugin echo { library echo_c; }'));
    const r = await runTresty(['-p', prefix, '-t']);
    expect(r.stderr).toContain('test is successful');
    expect(r.code).toBe(0);
  });

  it('-t fails on a missing library, naming the paths searched and the ffi_plugin line', async () => {
    const prefix = makePrefix(conf(await freePort(), 'ffi_plugin nope { library does_not_exist; }'));
    const r = await runTresty(['-p', prefix, '-t']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[emerg\] ffi library "does_not_exist" not found; searched: \S*libdoes_not_exist\.so.* in \S+nginx\.conf:6\n/);
    expect(r.stderr).toContain('test failed');
  });

  (built ? it : it.skip)(`start fails with exit 1 and the same message${built ? '' : ' (skipped: native/build not built)'}`, async () => {
    const prefix = makePrefix(conf(await freePort(), 'ffi_plugin nope { library does_not_exist; }'));
    const r = await runTresty(['-p', prefix], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ffi library "does_not_exist" not found.* in \S+nginx\.conf:6/);
    expect(existsSync(path.join(prefix, 'logs', 'tresty.pid'))).toBe(false);
  });
});
