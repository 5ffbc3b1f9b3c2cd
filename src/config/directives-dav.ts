// nginx's dav module: dav_methods, create_full_put_path, dav_access, min_delete_depth, with nginx
// 1.22's checks and messages (phases/dav.ts serves the methods). They land in the location's
// `files` settings and inherit one by one, as nginx merges them.

import { filesOf } from './directives-static.js';
import { confError, confWarning, type DirectiveRow, onOffRow } from './table.js';

const HSL = ['http', 'server', 'location'] as const;
const METHODS = ['PUT', 'DELETE', 'MKCOL', 'COPY', 'MOVE'];

export const davDirectives: readonly DirectiveRow[] = [
  {
    // a bitmask, as nginx's: the names in any case, `off` asks for nothing, a second line adds
    name: 'dav_methods', contexts: HSL, args: [1, 5], multiple: true,
    apply(d, s) {
      const f = filesOf(s);
      const set = new Set(f.davMethods ?? []);
      const seen = new Set<string>();
      for (const a of d.args) {
        const m = a.toUpperCase();
        if (m !== 'OFF' && !METHODS.includes(m)) throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${a}"`, d);
        if (seen.has(m)) { confWarning(s.main, `duplicate value "${a}"`, d); continue; }
        seen.add(m);
        if (m !== 'OFF') set.add(m);
      }
      f.davMethods = set.size === 0 ? null : METHODS.filter((m) => set.has(m));
    },
  },
  onOffRow('create_full_put_path', HSL, (on, s) => { filesOf(s).davFullPutPath = on ? true : null; }),
  {
    name: 'dav_access', contexts: HSL, args: [1, 3],
    apply(d, s) {
      let mode = 0;
      for (const a of d.args) {
        const m = /^(user|group|all):(rw|r)$/.exec(a);
        if (m === null) throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${a}"`, d);
        const shift = m[1] === 'user' ? 6 : m[1] === 'group' ? 3 : 0;
        mode |= (m[2] === 'rw' ? 6 : 4) << shift;
      }
      filesOf(s).davAccess = mode;
    },
  },
  {
    name: 'min_delete_depth', contexts: HSL, args: [1, 1],
    apply(d, s) {
      if (!/^\d+$/.test(d.args[0])) throw confError('TRESTY_ERR_CONF_VALUE', '"min_delete_depth" directive invalid number', d);
      filesOf(s).minDeleteDepth = Number(d.args[0]);
    },
  },
];
