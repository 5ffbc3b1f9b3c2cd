// split_clients' variable: nginx's MurmurHash2 of the source string's bytes against the parts'
// bounds (config/directives-split-clients.ts). A request reads it once; nginx caches it too.

import type { SplitClientsConf } from '../config/types.js';
import type { Req } from '../request/req.js';
import { bytesOf } from '../request/bytes.js';
import { evalParts } from './map.js';

type Get = (r: Req, name: string) => string | undefined;

/** nginx's ngx_murmur_hash2 (seed 0, little-endian words). */
export function murmurHash2(data: Uint8Array): number {
  const M = 0x5bd1e995;
  let len = data.length;
  let h = len >>> 0;
  let i = 0;
  while (len >= 4) {
    let k = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) >>> 0;
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
    i += 4;
    len -= 4;
  }
  // nginx's switch falls through: 3 bytes left mix in all three.
  if (len >= 3) h ^= data[i + 2] << 16;
  if (len >= 2) h ^= data[i + 1] << 8;
  if (len >= 1) { h ^= data[i]; h = Math.imul(h, M); }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h >>> 0;
}

/** The part the source's hash falls in; undefined when none does (no `*` and past the percents). */
export function splitValue(r: Req, c: SplitClientsConf, get: Get): string | undefined {
  // a value of the client's bytes (one char per byte) hashes as those bytes; text as UTF-8
  const hash = murmurHash2(bytesOf(evalParts(r, c.source, get)));
  for (const p of c.parts) if (hash < p.below || p.below === 0) return p.value;
  return undefined;
}
