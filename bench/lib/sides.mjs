// The two ways to reach the same native echo logic (native/runtimes/c/echo_logic.c), behind
// one interface { label, call(req), close() }:
//   ffi: libecho_c.so through the ring (plugin.call), loaded in this process;
//   uds: native/build/tresty-uds-echo over one persistent, pipelined unix-socket connection.
// Both encode and decode with the same format object, so serialization costs the same.
import path from 'node:path';
import { connectUds } from './uds-client.mjs';
import { startUdsEcho } from './uds-server.mjs';
import { onCleanup, tempDir } from './procs.mjs';
import { importDist, NATIVE_BUILD } from './tresty-dist.mjs';

/** The plugin's own format object (dist/src/ffi/formats.js), the one both sides share. */
export async function formatOf(name) {
  const { getFormat } = await importDist('src/ffi/formats.js');
  return getFormat(name);
}

export async function openFfi(format) {
  const { loadFfi } = await importDist('src/ffi/index.js');
  // No per-call timeout: the UDS client has none either, and a timer per call is not transport cost.
  const plugin = await loadFfi('echo_c', null, {
    format, maxQueue: 4096, timeoutMs: 0, searchPath: [NATIVE_BUILD],
  });
  return {
    label: 'FFI',
    pids: [],
    call: (req) => plugin.call(req),
    debugInfo: () => plugin.debugInfo?.(),
    close: () => plugin.unload(),
  };
}

/**
 * Starts the UDS echo server with one thread, as the FFI echo runtime answers on one poller
 * thread, and connects to it.
 */
export async function openUds(format) {
  const dir = tempDir('uds');
  const server = await startUdsEcho(path.join(dir, 'echo.sock'), { threads: 1 });
  onCleanup(() => { try { process.kill(server.pid, 'SIGKILL'); } catch { /* gone */ } });
  const fmt = await formatOf(format);
  const client = await connectUds(server.socketPath, { codec: { encode: (v) => fmt.encode(v), decode: (b) => fmt.decode(b) } });
  return {
    label: 'UDS',
    pids: [server.pid],
    call: (req) => client.call(req),
    async close() {
      await client.close();
      await server.stop();
    },
  };
}
