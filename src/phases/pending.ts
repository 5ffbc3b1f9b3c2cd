// A handler run that has to wait (it returned a promise, or left light threads running): one
// object per run in place of a promise with its executor, resolve functions and five closures.
// The phase loop (run.ts) hands it a continuation with `onto`, which it calls when the run ends,
// in the same microtask as the handler's own promise settles: no promise level of ours between
// the handler and the next step. Anything else (access's satisfy loop, the filters' callers) sees
// a thenable that behaves as a promise of the run's result; it never rejects, since `endRun`
// turns every outcome (a throw, an exit) into a result.

import { EXITED, type Call } from '../request/call.js';
import { INTERRUPT } from '../request/interrupt.js';
import type { Req } from '../request/req.js';

/** Not an error: the handler returned. */
export const RETURNED: unique symbol = Symbol('returned');
export type Outcome = typeof RETURNED | unknown;

/** Turns how a run ended into the step's result (handlerStep's, the filters'); `c.returned` is
 *  what the handler returned (body_filter reads it). */
export type Done<T> = (r: Req, o: Outcome, c: Call) => T;

/** The run is over: the phase and call before it come back; `done` says what the outcome means. */
export function endRun<T>(r: Req, c: Call, prev: number, prevCall: Call | null, o: Outcome, done: Done<T>): T {
  // An exit (even one a `catch` swallowed) ends the run the way the exit said.
  const out = c.state === EXITED ? INTERRUPT : o === RETURNED && c.heldError !== undefined ? c.heldError : o;
  c.end();
  r.phase = prev;
  if (r.call === c) r.call = prevCall;
  return done(r, out, c);
}

/** What to run when the run is over: `v` its result, `at` what onto() was given. */
export type Next<T> = (v: T, r: Req, at: number) => void;

export class Pending<T> implements Promise<T> {
  private over = false;
  private value: T | undefined = undefined;
  private next: Next<T> | null = null;
  private at = 0;

  /** `prev`, `prevCall`: the request's phase and call before this run, restored at its end. */
  constructor(private readonly r: Req, private readonly c: Call, private readonly prev: number,
    private readonly prevCall: Call | null, private readonly done: Done<T>) {}

  /** Waits for the handler's promise `v` (or, with `v` undefined, only for its held work). */
  watch(v: PromiseLike<unknown> | undefined): this {
    this.c.wake = () => this.woken();
    if (v === undefined) this.returned();
    else v.then((x) => { this.c.returned = x; this.returned(); }, (e: unknown) => this.finish(e));
    return this;
  }

  /** Runs `next(v, r, at)` once the run is over (one continuation: the phase loop's). */
  onto(next: Next<T>, at: number): void {
    const prev = this.next;
    // A second consumer (rare: a thenable consumer after the loop's) runs after the first.
    this.next = prev === null ? next : (v, r, i) => { prev(v, r, i); next(v, r, at); };
    if (prev === null) this.at = at;
    if (this.over) queueMicrotask(() => this.deliver());
  }

  /** One promise, `ok` run when the run ends (from a microtask, never inside this call); `bad`
   *  is never called: a Pending does not reject. */
  then<A = T, B = never>(ok?: ((v: T) => A | PromiseLike<A>) | null, _bad?: ((e: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return new Promise<A | B>((resolve, reject) => {
      this.onto((v) => {
        if (!ok) return resolve(v as unknown as A);
        try { resolve(ok(v)); } catch (e) { reject(e); }
      }, 0);
    });
  }

  catch<B = never>(bad?: ((e: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.then(undefined, bad);
  }

  finally(f?: (() => void) | null): Promise<T> {
    return this.then((v) => { f?.(); return v; });
  }

  get [Symbol.toStringTag](): string { return 'Promise'; }

  /** The handler settled: the run ends once no held work (light threads) is left. */
  private returned(): void {
    const idle = this.c.whenIdle();
    if (idle === null) return this.finish(RETURNED);
    // Held work may start more (a thread spawning one, a respond() after an execute()): once
    // idle, look again after the promise reactions pending now have run.
    void idle.then(() => setImmediate(() => this.returned()));
  }

  /** ngx.exit from a light thread or an abort callback: the run ends now, the loop goes on
   *  from a microtask (not inside the exit's own call). */
  private woken(): void {
    if (this.over) return;
    this.over = true;
    this.value = endRun(this.r, this.c, this.prev, this.prevCall, INTERRUPT, this.done);
    queueMicrotask(() => this.deliver());
  }

  private finish(o: Outcome): void {
    if (this.over) return;
    this.over = true;
    this.value = endRun(this.r, this.c, this.prev, this.prevCall, o, this.done);
    this.deliver();
  }

  private deliver(): void {
    const next = this.next;
    if (next === null) return;
    this.next = null;
    next(this.value as T, this.r, this.at);
  }
}
