// nginx's preaccess limits: limit_req (a leaky bucket per key: `rate`, `burst` more let through,
// delayed beyond `delay` or not at all with nodelay, the rest refused), then limit_conn
// (concurrent requests per key, taken back when the request ends). Both run once per main
// request (an internal redirect does not count it again) and keep their counters in the zone's
// js_shared_dict, so every worker sees one limit. Lines and $limit_*_status as nginx's.

import type { HttpConf, LimitLogLevel, LimitsConf, LimitZoneConf } from '../config/types.js';
import { evalParts } from '../api/map.js';
import { getVar } from '../api/vars.js';
import { DECLINED } from '../request/codes.js';
import { logReq } from '../request/report.js';
import type { Req } from '../request/req.js';
import { type SharedDict, sharedDicts } from '../shared/index.js';

/** nginx logs a delay one level below the refusal (info stays info). */
const LOWER: Record<LimitLogLevel, LimitLogLevel> = { error: 'warn', warn: 'notice', notice: 'info', info: 'info' };

/** nginx's `%ui.%03ui` of an excess kept in thousandths. */
function excessText(e: number): string {
  const n = Math.max(0, Math.ceil(e - 1e-6));
  return `${Math.floor(n / 1000)}.${String(n % 1000).padStart(3, '0')}`;
}

function dictOf(z: LimitZoneConf): SharedDict | null {
  return sharedDicts()[z.dict] ?? null;
}

function keyOf(r: Req, z: LimitZoneConf): string {
  return evalParts(r, z.key, getVar);
}

/** limit_conn: DECLINED, or the refusal's status. */
function limitConn(r: Req, lc: LimitsConf, zones: HttpConf['limitZones']): number {
  const m = r.main;
  if (m.limitConnStatus !== '') return DECLINED;
  for (const rule of lc.conn) {
    const z = zones.get(rule.zone)!;
    const key = keyOf(r, z);
    // nginx skips an empty key, and one longer than 255 bytes.
    if (key === '' || Buffer.byteLength(key) > 255) continue;
    const d = dictOf(z);
    if (d === null) continue;
    const [ok, , err] = d.connTake(key, rule.conn);
    if (err !== null) {
      logReq(r, 'error', `limit_conn zone "${z.name}": ${err}`);
      continue;
    }
    if (!ok) {
      if (lc.connDryRun) {
        logReq(r, lc.connLogLevel, `limiting connections, dry run, by zone "${z.name}"`);
        m.limitConnStatus = 'REJECTED_DRY_RUN';
        continue;
      }
      logReq(r, lc.connLogLevel, `limiting connections by zone "${z.name}"`);
      m.limitConnStatus = 'REJECTED';
      return lc.connStatus;
    }
    (m.cleanups ??= []).push(() => { d.incr(key, -1); });
  }
  if (m.limitConnStatus === '' && lc.conn.length > 0) m.limitConnStatus = 'PASSED';
  return DECLINED;
}

/** limit_req: DECLINED, a promise of it after a delay, or the refusal's status. */
function limitReq(r: Req, lc: LimitsConf, zones: HttpConf['limitZones']): number | Promise<number> {
  const m = r.main;
  if (m.limitReqStatus !== '') return DECLINED;
  // Every limit is tried without counting, the request counted in all only when none refuses.
  const hits: { z: LimitZoneConf; d: SharedDict; key: string; burst: number; delay: number }[] = [];
  for (const rule of lc.req) {
    const z = zones.get(rule.zone)!;
    const key = keyOf(r, z);
    if (key === '' || Buffer.byteLength(key) > 65535) continue;
    const d = dictOf(z);
    if (d === null) continue;
    hits.push({ z, d, key, burst: rule.burst, delay: rule.delay });
  }
  if (hits.length === 0) return DECLINED;
  let wait = 0;
  let worst: { z: LimitZoneConf; excess: number } | null = null;
  for (let i = 0; i < hits.length; i++) {
    const h = hits[i];
    const [ok, excess, err] = h.d.leaky(h.key, h.z.rate, h.burst, i === hits.length - 1, true);
    if (err !== null) {
      logReq(r, 'error', `limit_req zone "${h.z.name}": ${err}`);
      continue;
    }
    if (!ok) {
      if (lc.reqDryRun) {
        logReq(r, lc.reqLogLevel, `limiting requests, dry run, excess: ${excessText(excess)} by zone "${h.z.name}"`);
        m.limitReqStatus = 'REJECTED_DRY_RUN';
        return DECLINED;
      }
      logReq(r, lc.reqLogLevel, `limiting requests, excess: ${excessText(excess)} by zone "${h.z.name}"`);
      m.limitReqStatus = 'REJECTED';
      return lc.reqStatus;
    }
    if (excess > h.delay) {
      // nginx's integer ms: (excess - delay) * 1000 / rate, rounded down
      const ms = Math.floor(((excess - h.delay) * 1000) / h.z.rate);
      if (ms >= wait) {
        wait = ms;
        worst = { z: h.z, excess };
      }
    }
  }
  // nginx's account step for the other zones: counted whatever their level is now (another
  // worker may have filled them since the check), never refused there.
  for (let i = 0; i < hits.length - 1; i++) hits[i].d.leaky(hits[i].key, hits[i].z.rate, Infinity, true, true);
  if (worst === null || wait === 0) {
    m.limitReqStatus = 'PASSED';
    return DECLINED;
  }
  const dry = lc.reqDryRun ? ', dry run' : '';
  logReq(r, LOWER[lc.reqLogLevel], `delaying request${dry}, excess: ${excessText(worst.excess)}, by zone "${worst.z.name}"`);
  if (lc.reqDryRun) {
    m.limitReqStatus = 'DELAYED_DRY_RUN';
    return DECLINED;
  }
  m.limitReqStatus = 'DELAYED';
  return new Promise((resolve) => setTimeout(() => resolve(DECLINED), wait));
}

/** The preaccess step of a location with limits: limit_req, then limit_conn (nginx's order). */
export function limitsStep(lc: LimitsConf, http: HttpConf): (r: Req) => number | Promise<number> {
  const zones = http.limitZones;
  const conn = (r: Req): number => (lc.conn.length > 0 ? limitConn(r, lc, zones) : DECLINED);
  return (r) => {
    if (r.parent !== null) return DECLINED;
    const rc = lc.req.length > 0 ? limitReq(r, lc, zones) : DECLINED;
    if (typeof rc !== 'number') return rc.then((v) => (v === DECLINED ? conn(r) : v));
    return rc === DECLINED ? conn(r) : rc;
  };
}
