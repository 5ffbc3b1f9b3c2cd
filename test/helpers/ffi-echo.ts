// A tresty serving POST /echo through the C runtime's ring (libecho_c, its `echo_c-poll` poller
// thread), or another echo runtime's: for tests that look at the worker's threads while they answer.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, startTresty, type TrestyProcess } from './server.js';

export const nativeBuild = path.join(ROOT, 'native', 'build');

/** Whether the libraries (and any extra files) these tests load are built. */
export function ffiEchoBuilt(...extra: string[]): boolean {
  return ['libecho_c.so', 'libtresty_host.so', ...extra].every((f) => fs.existsSync(path.join(nativeBuild, f)));
}

/** Starts tresty with `main` (main-context lines: worker_processes and such) and the /echo server on port, through `library` (its poller `LIBRARY-poll`). */
export function startFfiEcho(port: number, main: string, env: Record<string, string>, library = 'echo_c'): Promise<TrestyProcess> {
  return startTresty(`${main}
events {}
http {
  ffi_library_path ${nativeBuild};
  ffi_plugin echo { library ${library}; format string; }
  server {
    listen 127.0.0.1:${port};
    location = /echo {
      content_by_js_block { await ngx.req.read_body(); ngx.print(await ngx.ffi.echo.call(ngx.req.get_body_data() ?? '')); }
    }
  }
}`, { env });
}
