// What a handler holds: a plugin = a core (library + rings + pollers) seen through a format.
import { TrestyError } from '../errors.js';
import type { Channel, Reply } from './channel.js';
import type { Format } from './formats.js';

export interface PluginOptions {
  format?: 'raw' | 'string' | 'json' | 'msgpack';
  maxQueue?: number;
  timeoutMs?: number;
  kind?: 'runtime' | 'function';
  symbol?: string;
  searchPath?: string[];
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface FfiPlugin {
  readonly name: string;
  call(req: unknown, opts?: CallOptions): Promise<unknown>;
  unload(): Promise<void>;
  readonly inFlight: number;
}

/** A runtime's rc != 0 answer: `rc` and the runtime's own message travel with the error. */
export class FfiRuntimeError extends TrestyError {
  constructor(readonly plugin: string, readonly rc: number, readonly runtimeMessage: string) {
    super('TRESTY_ERR_FFI_RUNTIME', `ffi plugin ${plugin}: runtime answered rc=${rc}: ${runtimeMessage || '(no message)'}`);
    this.name = 'FfiRuntimeError';
  }
}

/** One loaded library with its rings; shared by every plugin handle on it. */
export interface Core {
  readonly channel: Channel;
  readonly path: string;
  unload(): Promise<void>;
}

const utf8 = new TextDecoder('utf-8');

export class Plugin implements FfiPlugin {
  constructor(
    readonly name: string,
    private readonly core: Core,
    private readonly format: Format,
    private readonly timeoutMs: number,
  ) {}

  get inFlight(): number {
    return this.core.channel.inFlight;
  }

  call(req: unknown, opts?: CallOptions): Promise<unknown> {
    let bytes: Uint8Array;
    try {
      bytes = this.format.encode(req);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.core.channel.call(bytes, opts?.timeoutMs ?? this.timeoutMs, opts?.signal).then(this.decode);
  }

  private readonly decode = (r: Reply): unknown => {
    if (r.rc !== 0) throw new FfiRuntimeError(this.name, r.rc, utf8.decode(r.data));
    return this.format.decode(r.data);
  };

  unload(): Promise<void> {
    return this.core.unload();
  }

  /** For tests and diagnostics: the library path and the host's counters. */
  debugInfo(): { path: string; live: number; dropped: number; doorbells: number; wakes: number } {
    return { path: this.core.path, ...this.core.channel.nativeStats(), ...this.core.channel.counters };
  }
}
