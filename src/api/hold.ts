// Keeping a handler run open for a promise it may not await (tresty/rack's execute() and
// respond()): the run, and so its request, ends only once the promise settles, and a failure
// nobody waited on fails the run (500, logged with the handler) instead of vanishing.

import { type Call, LIVE } from '../request/call.js';

/** A promise that knows whether anyone waits on it (awaits or attaches a handler). */
class Watched<T> extends Promise<T> {
  watched = false;
  static override get [Symbol.species](): PromiseConstructor { return Promise; }
  override then<A = T, B = never>(ok?: ((v: T) => A | PromiseLike<A>) | null, no?: ((e: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    this.watched = true;
    return super.then(ok, no);
  }
}

/**
 * Keeps the handler run `c` open until `p` settles, and returns the promise to hand out instead
 * of `p`: if it fails and nobody waited on that promise, the failure fails the run.
 */
export function holdCall<T>(c: Call, p: Promise<T>): Promise<T> {
  if (c.state !== LIVE) return p;
  c.hold();
  let out: Watched<T> | null = null;
  out = new Watched<T>((resolve, reject) => {
    Promise.prototype.then.call(p, (v: T) => { c.release(); resolve(v); }, (e: unknown) => {
      if (!out!.watched && c.heldError === undefined) c.heldError = e;
      c.release();
      // Rejected for whoever waits; marked handled so an unwatched failure is only the run's.
      Promise.prototype.catch.call(out!, () => {});
      reject(e);
    });
  });
  return out;
}
