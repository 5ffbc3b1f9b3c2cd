// The interrupt token: ngx.exit / ngx.exec / ngx.redirect throw it to leave a handler at once.
// The phase engine catches it and reads what was recorded on the request.

/** Thrown by ngx.exit / ngx.exec / ngx.redirect to leave the handler at once; never an Error. */
export const INTERRUPT: unique symbol = Symbol('tresty.interrupt');

export function isPromise(v: unknown): v is Promise<unknown> {
  return v instanceof Promise || (typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function');
}
