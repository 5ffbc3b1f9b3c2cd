// FFI plugins as a request's handlers see them: every call made while serving a request carries
// that request's abort signal, so a native call whose client went away is abandoned at once
// (TRESTY_ERR_FFI_ABORTED) instead of holding the request until it answers; the runtime's late
// answer is freed by the host.

import type { AbortLike, CallOptions, FfiPlugin } from '../ffi/index.js';
import type { Req } from '../request/req.js';

/**
 * A request's abort hook: what an AbortSignal does for a call, with a plain array of listeners
 * (rarely more than one at a time). Not an AbortSignal: see AbortLike (ffi/call.ts) for its cost.
 */
class RequestAbort implements AbortLike {
  aborted = false;
  private fns: (() => void)[] = [];

  addEventListener(_type: 'abort', fn: () => void): void {
    this.fns.push(fn);
  }

  removeEventListener(_type: 'abort', fn: () => void): void {
    const i = this.fns.indexOf(fn);
    if (i >= 0) this.fns.splice(i, 1);
  }

  readonly abort = (): void => {
    if (this.aborted) return;
    this.aborted = true;
    const fns = this.fns;
    this.fns = [];
    for (const fn of fns) fn();
  };
}

/**
 * A plugin as a request's handlers hold it: its calls carry the request's abort hook. A class,
 * not an object literal with getters and closures: made for every plugin of the conf in every
 * request that reads ngx.ffi, and the literal form cost ~9 µs and heavy GC work per request.
 */
class RequestPlugin implements FfiPlugin {
  constructor(private readonly p: FfiPlugin, private readonly owner: RequestFfi) {}

  get name(): string { return this.p.name; }

  get inFlight(): number { return this.p.inFlight; }

  call(req: unknown, opts?: CallOptions): Promise<unknown> {
    if (opts?.signal) return this.p.call(req, opts);
    // A zero-hop call is over before its request could go away: it needs the request's hook only
    // if the hook exists already (and may have fired), not a new one registered with the exchange.
    const signal = this.p.zeroHop ? this.owner.signalIfMade() : this.owner.signal();
    if (!signal) return this.p.call(req, opts);
    return this.p.call(req, opts ? { ...opts, signal } : { signal });
  }

  get zeroHop(): boolean { return this.p.zeroHop === true; }

  unload(): Promise<void> { return this.p.unload(); }
}

export class RequestFfi {
  #signal: RequestAbort | undefined;
  #bound: Record<string, FfiPlugin> | undefined;
  /** One wrapper per plugin per request: two load_ffi of one library give the same object. */
  #wrappers: { plugin: FfiPlugin; bound: RequestPlugin }[] = [];

  constructor(private readonly r: Req) {}

  /** Made on the first call only: most requests never reach native code. */
  signal(): AbortLike {
    if (this.#signal) return this.#signal;
    const a = new RequestAbort();
    this.r.ex.onAbort(a.abort);
    return (this.#signal = a);
  }

  signalIfMade(): AbortLike | undefined {
    return this.#signal;
  }

  bind(p: FfiPlugin): FfiPlugin {
    const ws = this.#wrappers; // a handful per request: a scan beats a Map
    for (const w of ws) if (w.plugin === p) return w.bound;
    const bound = new RequestPlugin(p, this);
    ws.push({ plugin: p, bound });
    return bound;
  }

  /** ngx.ffi: the conf's plugins, bound once per request. */
  plugins(all: Record<string, FfiPlugin>): Record<string, FfiPlugin> {
    if (this.#bound) return this.#bound;
    const out: Record<string, FfiPlugin> = {};
    for (const name of Object.keys(all)) out[name] = this.bind(all[name]!);
    return (this.#bound = out);
  }
}
