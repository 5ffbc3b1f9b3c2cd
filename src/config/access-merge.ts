// How the access modules' settings (types-access.ts) inherit: a level that sets one replaces
// its parent's, as nginx's merge does for allow/deny, satisfy and real_ip.

import type { AccessConf, AccessRule } from './types-access.js';

/** What a block sets while the conf is walked (undefined: inherit). */
export interface AccessSettings {
  accessRules?: AccessRule[];
  satisfyAny?: boolean;
  realFrom?: AccessRule[];
  realHeader?: string;
  realRecursive?: boolean;
}

export type MergedAccess = Required<AccessSettings>;

export const ACCESS_DEFAULTS: MergedAccess = {
  accessRules: [], satisfyAny: false, realFrom: [], realHeader: 'x-real-ip', realRecursive: false,
};

export function mergeAccess(parent: MergedAccess, own: AccessSettings): MergedAccess {
  return {
    accessRules: own.accessRules ?? parent.accessRules,
    satisfyAny: own.satisfyAny ?? parent.satisfyAny,
    realFrom: own.realFrom ?? parent.realFrom,
    realHeader: own.realHeader ?? parent.realHeader,
    realRecursive: own.realRecursive ?? parent.realRecursive,
  };
}

/** The frozen shape: real_ip only where set_real_ip_from is (nothing to do without it). */
export function accessConf(m: MergedAccess): AccessConf {
  return {
    accessRules: m.accessRules, satisfyAny: m.satisfyAny,
    realIp: m.realFrom.length === 0 ? null : { from: m.realFrom, header: m.realHeader, recursive: m.realRecursive },
  };
}
