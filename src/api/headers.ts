// ngx.header over the request's header store (src/request/headers.ts): case-insensitive names,
// `_` read as `-` (ngx.header.content_type) as OpenResty does by default.

import { HeaderStore, type HeaderValue } from '../request/headers.js';

export { HeaderStore, type HeaderValue };

/** `content_type` -> `content-type` */
export function headerName(prop: string): string {
  return prop.indexOf('_') >= 0 ? prop.replace(/_/g, '-') : prop;
}

/** ngx.header: case-insensitive, `_` as `-`; `check` runs before every access; `unset(name)`:
 *  what a header not in the store reads as (nginx's default type once the head went out). */
export function headerProxy(store: () => HeaderStore | null, check: (write: boolean) => boolean, write: () => HeaderStore,
  unset?: (name: string) => string | undefined): Record<string, HeaderValue | undefined> {
  return new Proxy(Object.create(null) as Record<string, HeaderValue | undefined>, {
    get(_t, prop) {
      if (typeof prop !== 'string') return undefined;
      check(false);
      const name = headerName(prop);
      const v = store()?.get(name);
      // '' is a cleared Content-Type (or Server): no value, as lua reads it
      return v === '' ? undefined : v ?? unset?.(name);
    },
    set(_t, prop, value) {
      if (typeof prop !== 'string') return true;
      if (check(true)) write().set(headerName(prop), value, true);
      return true;
    },
    deleteProperty(_t, prop) {
      if (typeof prop === 'string' && check(true)) write().set(headerName(prop), null, true);
      return true;
    },
    has(_t, prop) {
      return typeof prop === 'string' && store()?.has(headerName(prop)) === true;
    },
    ownKeys() {
      return [...(store()?.keys() ?? [])];
    },
    getOwnPropertyDescriptor(_t, prop) {
      const v = typeof prop === 'string' ? store()?.get(prop) : undefined;
      return v === undefined ? undefined : { value: v, enumerable: true, configurable: true, writable: true };
    },
  });
}
