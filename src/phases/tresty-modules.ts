// tresty's handler modules, loaded with the worker, for a handler's `require`: `require('tresty/ssl')`
// gives the same module `await import('tresty/ssl')` does, at once. An import() inside a handler
// goes through the module loader (and its hooks thread) on every call, ~1 ms of CPU per handshake
// (bench/README.md); OpenResty code requires its modules where it uses them (`require "ngx.ssl"`).
import * as balancer from '../balancer/index.js';
import * as ocsp from '../ocsp/index.js';
import * as ssl from '../ssl/index.js';

const MODULES: ReadonlyMap<string, object> = new Map<string, object>([
  ['tresty/balancer', balancer], ['tresty/ocsp', ocsp], ['tresty/ssl', ssl],
]);

/** The module of `id` when it is one of these, else undefined. */
export function trestyModule(id: string): object | undefined {
  return MODULES.get(id);
}
