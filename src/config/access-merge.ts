// How the access modules' settings (types-access.ts) inherit: a level that sets one replaces
// its parent's, as nginx's merge does for allow/deny, satisfy and real_ip.

import { templateParts } from './template-parts.js';
import type { AccessConf, AccessRule, LimitConnRule, LimitLogLevel, LimitReqRule } from './types-access.js';

/** What a block sets while the conf is walked (undefined: inherit). */
export interface AccessSettings {
  accessRules?: AccessRule[];
  satisfyAny?: boolean;
  realFrom?: AccessRule[];
  realHeader?: string;
  realRecursive?: boolean;
  limitReq?: LimitReqRule[];
  limitReqStatus?: number;
  limitReqLogLevel?: LimitLogLevel;
  limitReqDryRun?: boolean;
  limitConn?: LimitConnRule[];
  limitConnStatus?: number;
  limitConnLogLevel?: LimitLogLevel;
  limitConnDryRun?: boolean;
  /** auth_basic's realm, or false for `off`. */
  authBasic?: string | false;
  authBasicUserFile?: string;
  authConfDir?: string;
  /** auth_request's URI, or false for `off`. */
  authRequest?: string | false;
  /** auth_request_set lines of the block (a level with its own replaces its parent's). */
  authRequestSet?: { variable: string; value: string }[];
}

export type MergedAccess = Required<AccessSettings>;

export const ACCESS_DEFAULTS: MergedAccess = {
  accessRules: [], satisfyAny: false, realFrom: [], realHeader: 'x-real-ip', realRecursive: false,
  limitReq: [], limitReqStatus: 503, limitReqLogLevel: 'error', limitReqDryRun: false,
  limitConn: [], limitConnStatus: 503, limitConnLogLevel: 'error', limitConnDryRun: false,
  authBasic: false, authBasicUserFile: '', authConfDir: '',
  authRequest: false, authRequestSet: [],
};

export function mergeAccess(parent: MergedAccess, own: AccessSettings): MergedAccess {
  const out = { ...parent };
  for (const k of Object.keys(own) as (keyof AccessSettings)[]) {
    if (own[k] !== undefined) (out as Record<string, unknown>)[k] = own[k];
  }
  return out;
}

/** The frozen shape: real_ip only where set_real_ip_from is (nothing to do without it). */
export function accessConf(m: MergedAccess, limitExcept?: { methods: string[]; own: AccessSettings }): AccessConf {
  return {
    limitExcept: limitExcept === undefined ? null
      : { methods: limitExcept.methods, access: accessConf(mergeAccess(m, limitExcept.own)) },
    accessRules: m.accessRules, satisfyAny: m.satisfyAny,
    realIp: m.realFrom.length === 0 ? null : { from: m.realFrom, header: m.realHeader, recursive: m.realRecursive },
    authBasic: m.authBasic === false || m.authBasicUserFile === '' ? null
      : { realm: templateParts(m.authBasic), file: templateParts(m.authBasicUserFile), confDir: m.authConfDir },
    authRequest: m.authRequest === false ? null : {
      uri: m.authRequest,
      set: m.authRequestSet.map((x) => ({ variable: x.variable, value: templateParts(x.value) })),
    },
    limits: m.limitReq.length === 0 && m.limitConn.length === 0 ? null : {
      req: m.limitReq, reqStatus: m.limitReqStatus, reqLogLevel: m.limitReqLogLevel, reqDryRun: m.limitReqDryRun,
      conn: m.limitConn, connStatus: m.limitConnStatus, connLogLevel: m.limitConnLogLevel, connDryRun: m.limitConnDryRun,
    },
  };
}
