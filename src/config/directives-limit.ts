// nginx's limit_req and limit_conn modules. A zone is a js_shared_dict zone of its own
// (`limit_req:NAME`), so the limits are exact across workers with the same atomic steps
// tresty/limit uses (native/shdict: the leaky bucket, limit_conn's check-and-take). Per request: phases/limits.ts.

import type { Directive } from './ast.js';
import type { AccessSettings } from './access-merge.js';
import type { BlockState, HttpBuilder } from './builders.js';
import { templateParts } from './template-parts.js';
import { confError, type DirectiveRow, flagError } from './table.js';
import type { LimitLogLevel, LimitZoneConf } from './types-access.js';
import { parseFlag, parseSize } from './values.js';

const HSL = ['http', 'server', 'location'] as const;
/** nginx's smallest zone: 8 pages. */
const MIN_ZONE = 8 * 4096;
const LEVELS = new Set(['info', 'notice', 'warn', 'error']);

function settings(s: BlockState): AccessSettings {
  return (s.settings!.access ??= {});
}

function bad(d: Directive, what: string): never {
  throw confError('TRESTY_ERR_CONF_VALUE', what, d);
}

/** `limit_req_zone KEY zone=NAME:SIZE rate=Nr/s|Nr/m`, `limit_conn_zone KEY zone=NAME:SIZE`. */
function zone(kind: 'req' | 'conn'): DirectiveRow {
  const directive = `limit_${kind}_zone`;
  return {
    name: directive, contexts: ['http'], args: kind === 'req' ? [3, 3] : [2, 2], multiple: true,
    apply(d, s) {
      let name = '';
      let size = 0;
      let rate = 0;
      for (const a of d.args.slice(1)) {
        if (a.startsWith('zone=')) {
          const v = a.slice(5);
          const i = v.lastIndexOf(':');
          if (i <= 0) bad(d, `invalid zone size "${v}"`);
          name = v.slice(0, i);
          const n = parseSize(v.slice(i + 1));
          if (n === null) bad(d, `invalid zone size "${v}"`);
          if (n < MIN_ZONE) bad(d, `zone "${name}" is too small`);
          size = n;
        } else if (kind === 'req' && a.startsWith('rate=')) {
          const m = /^(\d+)r\/([sm])$/.exec(a.slice(5));
          if (!m || Number(m[1]) === 0) bad(d, `invalid rate "${a}"`);
          rate = m[2] === 's' ? Number(m[1]) * 1000 : Math.trunc(Number(m[1]) * 1000 / 60);
        } else {
          bad(d, `invalid parameter "${a}"`);
        }
      }
      if (name === '') bad(d, `"${directive}" must have "zone" parameter`);
      if (kind === 'req' && rate === 0) bad(d, `invalid rate "rate="`);
      const http = s.http as HttpBuilder;
      const zones = (http.limitZones ??= new Map());
      if (zones.has(name)) bad(d, `${directive} "${name}" is already bound to key "${d.args[0]}"`);
      const ref = { file: d.file, line: d.line };
      const z: LimitZoneConf = { kind, name, dict: `limit_${kind}:${name}`, key: templateParts(d.args[0]), rate, ref };
      zones.set(name, z);
      (s.main.sharedDicts ??= new Map()).set(z.dict, { name: z.dict, size, ref });
    },
  };
}

function status(directive: string, key: 'limitReqStatus' | 'limitConnStatus'): DirectiveRow {
  return {
    name: directive, contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (!/^\d+$/.test(v) || Number(v) < 400 || Number(v) > 599) bad(d, 'value must be between 400 and 599');
      settings(s)[key] = Number(v);
    },
  };
}

function level(directive: string, key: 'limitReqLogLevel' | 'limitConnLogLevel'): DirectiveRow {
  return {
    name: directive, contexts: HSL, args: [1, 1],
    apply(d, s) {
      if (!LEVELS.has(d.args[0])) bad(d, `invalid value "${d.args[0]}"`);
      settings(s)[key] = d.args[0] as LimitLogLevel;
    },
  };
}

function dryRun(directive: string, key: 'limitReqDryRun' | 'limitConnDryRun'): DirectiveRow {
  return {
    name: directive, contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = parseFlag(d.args[0]);
      if (v === null) throw flagError(d);
      settings(s)[key] = v;
    },
  };
}

/** Zones named by limit_req / limit_conn must be defined somewhere in http (nginx checks at the end). */
export function checkLimitZones(http: HttpBuilder): void {
  for (const u of http.limitUses ?? []) {
    const z = http.limitZones?.get(u.zone);
    if (z === undefined || z.kind !== u.kind) {
      throw confError('TRESTY_ERR_CONF_VALUE', `unknown limit_${u.kind}_zone "${u.zone}"`, u.ref);
    }
  }
}

function use(s: BlockState, kind: 'req' | 'conn', zoneName: string, d: Directive): void {
  (s.http!.limitUses ??= []).push({ kind, zone: zoneName, ref: { file: d.file, line: d.line } });
}

export const limitDirectives: readonly DirectiveRow[] = [
  zone('req'),
  zone('conn'),
  {
    name: 'limit_req', contexts: HSL, args: [1, 3], multiple: true,
    apply(d, s) {
      let zoneName = '';
      let burst = 0;
      let delay = 0;
      for (const a of d.args) {
        if (a.startsWith('zone=')) zoneName = a.slice(5);
        else if (a.startsWith('burst=')) {
          if (!/^\d+$/.test(a.slice(6)) || Number(a.slice(6)) === 0) bad(d, `invalid burst value "${a}"`);
          burst = Number(a.slice(6)) * 1000;
        } else if (a.startsWith('delay=')) {
          if (!/^\d+$/.test(a.slice(6)) || Number(a.slice(6)) === 0) bad(d, `invalid delay value "${a}"`);
          delay = Number(a.slice(6)) * 1000;
        } else if (a === 'nodelay') delay = Infinity;
        else bad(d, `invalid parameter "${a}"`);
      }
      if (zoneName === '') bad(d, '"limit_req" must have "zone" parameter');
      const list = (settings(s).limitReq ??= []);
      if (list.some((r) => r.zone === zoneName)) throw confError('TRESTY_ERR_CONF_DUPLICATE', `"limit_req" directive is duplicate`, d);
      list.push({ zone: zoneName, burst, delay, ref: { file: d.file, line: d.line } });
      use(s, 'req', zoneName, d);
    },
  },
  {
    name: 'limit_conn', contexts: HSL, args: [2, 2], multiple: true,
    apply(d, s) {
      const [zoneName, n] = d.args;
      if (!/^\d+$/.test(n) || Number(n) === 0 || Number(n) > 65535) bad(d, `invalid number of connections "${n}"`);
      const list = (settings(s).limitConn ??= []);
      if (list.some((r) => r.zone === zoneName)) throw confError('TRESTY_ERR_CONF_DUPLICATE', `"limit_conn" directive is duplicate`, d);
      list.push({ zone: zoneName, conn: Number(n), ref: { file: d.file, line: d.line } });
      use(s, 'conn', zoneName, d);
    },
  },
  status('limit_req_status', 'limitReqStatus'),
  status('limit_conn_status', 'limitConnStatus'),
  level('limit_req_log_level', 'limitReqLogLevel'),
  level('limit_conn_log_level', 'limitConnLogLevel'),
  dryRun('limit_req_dry_run', 'limitReqDryRun'),
  dryRun('limit_conn_dry_run', 'limitConnDryRun'),
];
