// Every koffi binding tresty makes, in one place. The prototype strings match
// native/include/tresty_host.h one for one; koffi 3 gives pointers as bigint (or null). On the
// per-call paths out-parameters are typed arrays, not _Out_ arrays: koffi's _Out_ marshalling
// cost ~0.25-0.5 µs a call (bench/README.md, "The cost of a call inside a worker").
import koffi from 'koffi';

export type Ptr = bigint;

export interface HostBindings {
  readonly path: string;
  lastError(): string;
  pinLibrary(path: string): number;
  tqNew(mem: Uint8Array, bytes: number, outTq: [Ptr | null], outFd: [number]): number;
  runtimeInit(tq: Ptr, initFn: Ptr, cfg: string | null, outRc: [number]): number;
  tqWake(tq: Ptr, n: number): number;
  tqDetach(tq: Ptr): number;
  tqFree(tq: Ptr): number;
  tqClose(tq: Ptr, waitMs: number, outLeft: [number]): number;
  fnBind(fn: Ptr, req: Uint8Array, reqCap: number, out: Uint8Array, outCap: number, maxRsp: number, meta: Int32Array): Ptr | null;
  fnRebindReq(bound: Ptr, req: Uint8Array, reqCap: number): number;
  fnInvoke(bound: Ptr, len: number): number;
  fnUnbind(bound: Ptr): number;
  bufNew(data: Uint8Array, len: number, outBuf: BigUint64Array): number;
  bufTake(buf: Ptr, out: Uint8Array, len: number): number;
  bufFree(buf: Ptr): number;
  taskTryPoll(tq: Ptr): Ptr | null;
  fnRun(task: Ptr, fn: Ptr): number;
  spinBudget(tq: Ptr): number;
  tqStats(tq: Ptr, outLive: [number | bigint], outDropped: [number | bigint]): number;
}

/** Load the host library with RTLD_GLOBAL, so runtimes loaded later resolve the ABI against it. */
export function bindHost(path: string): HostBindings {
  const lib = koffi.load(path, { global: true });
  keepLoaded.push(lib);
  const f = (proto: string) => lib.func(proto);
  return {
    path,
    lastError: f('const char *tresty_last_error(void)'),
    pinLibrary: f('int tresty_pin_library(const char *path)'),
    tqNew: f('int tresty_tq_new(uint8_t *mem, uint32_t bytes, _Out_ void **out_tq, _Out_ int *out_fd)'),
    runtimeInit: f('int tresty_runtime_init(void *tq, void *init_fn, const char *cfg, _Out_ int *out_rc)'),
    tqWake: f('int tresty_tq_wake(void *tq, int n)'),
    tqDetach: f('int tresty_tq_detach(void *tq)'),
    tqFree: f('int tresty_tq_free(void *tq)'),
    tqClose: f('int tresty_tq_close(void *tq, int wait_ms, _Out_ int *out_left)'),
    fnBind: f('void *tresty_fn_bind(void *fn, uint8_t *req, uint32_t req_cap, uint8_t *out, uint32_t out_cap, uint32_t max_rsp, int32_t *meta)'),
    fnRebindReq: f('int tresty_fn_rebind_req(void *bound, uint8_t *req, uint32_t req_cap)'),
    fnInvoke: f('int tresty_fn_invoke(void *bound, uint32_t len)'),
    fnUnbind: f('int tresty_fn_unbind(void *bound)'),
    bufNew: f('int tresty_buf_new(const uint8_t *data, uint32_t len, void **out_buf)'), // out_buf: a BigUint64Array(1)
    bufTake: f('int tresty_buf_take(void *buf, uint8_t *out, uint32_t len)'),
    bufFree: f('int tresty_buf_free(void *buf)'),
    taskTryPoll: f('void *tresty_task_try_poll(void *tq)'),
    fnRun: f('int tresty_fn_run(void *task, void *fn)'),
    spinBudget: f('uint32_t tresty_spin_budget(void *tq)'),
    tqStats: f('int tresty_tq_stats(void *tq, _Out_ int64_t *out_live, _Out_ int64_t *out_dropped)'),
  };
}

// koffi unloads a library once nothing references it; runtime threads may still run its code
// (and the host's) long after a plugin is unloaded, so every library stays loaded for good.
const keepLoaded: unknown[] = [];

export interface PluginLibrary {
  readonly path: string;
  /** The address of an exported symbol; throws when the library does not export it. */
  symbol(name: string): Ptr;
  /** A callable export, by its C prototype; throws when the library does not export it. */
  func(proto: string): (...args: unknown[]) => unknown;
}

/** Load a runtime or function library (RTLD_LOCAL; its ABI imports come from the host). */
export function openLibrary(path: string): PluginLibrary {
  const lib = koffi.load(path);
  keepLoaded.push(lib);
  return { path, symbol: (name) => lib.symbol(name) as Ptr, func: (proto) => lib.func(proto) };
}
