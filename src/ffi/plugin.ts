// What a handler holds: a plugin = a core (library + rings + pollers) seen through a format.
import { TrestyError } from '../errors.js';
import { INLINE_MAX } from '../ring/layout.js';
import type { AbortLike, Reader } from './call.js';
import { type Format, utf8Slice } from './formats.js';

export interface PluginOptions {
  format?: 'raw' | 'string' | 'json' | 'msgpack';
  maxQueue?: number;
  timeoutMs?: number;
  /** Answers longer than this (bytes) reject with TRESTY_ERR_FFI_RESPONSE_TOO_LARGE (16 MB). */
  maxResponseSize?: number;
  kind?: 'runtime' | 'function';
  /** kind 'function' only; false: the function never blocks, call it on the event loop itself. */
  blocking?: boolean;
  symbol?: string;
  searchPath?: string[];
  /** The Python loader (ffi_python3): directories put on sys.path before the module is imported. */
  pythonPath?: string[];
  /** The Java loader (ffi_java): directories and jars searched for the plugin's class. */
  classPath?: string[];
}

export interface CallOptions {
  timeoutMs?: number;
  /** An AbortSignal, or anything with `aborted` and add/removeEventListener('abort'). */
  signal?: AbortSignal | AbortLike;
}

export interface FfiPlugin {
  readonly name: string;
  call(req: unknown, opts?: CallOptions): Promise<unknown>;
  unload(): Promise<void>;
  readonly inFlight: number;
  /** True when a call runs inside call() itself (`kind function; blocking off`): nothing stays in flight. */
  readonly zeroHop?: boolean;
}

/** A runtime's rc != 0 answer: `rc` and the runtime's own message travel with the error. */
export class FfiRuntimeError extends TrestyError {
  constructor(readonly plugin: string, readonly rc: number, readonly runtimeMessage: string) {
    super('TRESTY_ERR_FFI_RUNTIME', `ffi plugin ${plugin}: runtime answered rc=${rc}: ${runtimeMessage || '(no message)'}`);
    this.name = 'FfiRuntimeError';
  }
}

/** A channel's counts of wake-ups, doorbells and looks (rings only: quick looks and their waits, wakes that found answers). */
export interface ChannelCounters {
  doorbells: number; wakes: number; looks: number; lookHits: number; quick?: number; waits?: number; waited?: number; wakeHits?: number;
}

/** How a core takes calls: the ring (Channel) or a direct call on the event loop (InlineChannel). */
export interface CallChannel {
  readonly inFlight: number;
  readonly counters: ChannelCounters;
  readonly doubleAnswerCount: number;
  /** Spins the host's gate allowed (rings only). */
  readonly spinCount?: number;
  /** Who reads the completion doorbell (bell.ts); 'none' for the zero-hop path, which has none. */
  readonly bellKind: 'engine' | 'socket' | 'none';
  call(payload: Uint8Array, timeoutMs: number, signal: AbortLike | undefined, read: Reader): Promise<unknown>;
  /** call() of a string the channel writes as UTF-8 itself: the zero-hop path alone has it (Plugin.zeroHop). */
  callString?(v: string, signal: AbortLike | undefined, read: Reader): Promise<unknown>;
  /** call() of a short string the ring writes as UTF-8 straight into its slot (rings only). */
  callText?(v: string, timeoutMs: number, signal: AbortLike | undefined, read: Reader): Promise<unknown>;
  nativeStats(): { live: number; dropped: number };
}

/** One loaded library with its rings; shared by every plugin handle on it. */
export interface Core {
  readonly channel: CallChannel;
  readonly path: string;
  unload(): Promise<void>;
}

export class Plugin implements FfiPlugin {
  constructor(
    readonly name: string,
    private readonly core: Core,
    private readonly format: Format,
    private readonly timeoutMs: number,
  ) {
    this.read = Object.assign((rc: number, src: Uint8Array, start: number, end: number, shared: boolean) => {
      if (rc !== 0) throw new FfiRuntimeError(this.name, rc, utf8Slice(src, start, end));
      return this.format.read(src, start, end, shared);
    }, { keepsBytes: format.name === 'raw' });
    this.textual = format.name === 'string' || format.name === 'raw';
  }

  private readonly read: Reader;
  /** string and raw encode a string as its UTF-8 bytes, which the zero-hop path writes itself. */
  private readonly textual: boolean;

  get inFlight(): number {
    return this.core.channel.inFlight;
  }

  get zeroHop(): boolean {
    return this.core.channel.callString !== undefined;
  }

  call(req: unknown, opts?: CallOptions): Promise<unknown> {
    const ch = this.core.channel;
    // Zero hop: a string for a string or raw plugin goes in as UTF-8 with no transient bytes
    // (up to a length whose UTF-8 surely fits a buffer).
    if (typeof req === 'string' && this.textual) {
      if (ch.callString && req.length <= 0x2aaaaaaa) return ch.callString(req, opts?.signal, this.read);
      // The ring: a string that may fit a slot is written into it as UTF-8, with no transient bytes.
      if (ch.callText && req.length <= INLINE_MAX) return ch.callText(req, opts?.timeoutMs ?? this.timeoutMs, opts?.signal, this.read);
    }
    let bytes: Uint8Array;
    try {
      bytes = this.format.encodeTransient ? this.format.encodeTransient(req) : this.format.encode(req);
    } catch (e) {
      return Promise.reject(e);
    }
    // One promise per call: the channel settles it with read()'s value (no .then(decode)).
    return ch.call(bytes, opts?.timeoutMs ?? this.timeoutMs, opts?.signal, this.read);
  }


  unload(): Promise<void> {
    return this.core.unload();
  }

  /** For tests and diagnostics: the library path and the host's counters. */
  debugInfo(): ChannelCounters & { path: string; live: number; dropped: number; spins?: number; doubleAnswers: number; bell: string } {
    const ch = this.core.channel;
    return { path: this.core.path, ...ch.nativeStats(), ...ch.counters, spins: ch.spinCount, doubleAnswers: ch.doubleAnswerCount, bell: ch.bellKind };
  }
}
