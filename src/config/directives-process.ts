// nginx's process directives: user, worker_rlimit_nofile, env, worker_shutdown_timeout. The
// worker applies them (workers/http-worker.ts, src/master/privileges.ts).

import { lookupId } from './accounts.js';
import { confError, confWarning, type DirectiveRow, invalidValue } from './table.js';
import { parseSize, parseTime } from './values.js';

export const processDirectives: readonly DirectiveRow[] = [
  {
    // As nginx: only a master running as root switches its workers' user; otherwise a warning.
    // Without GROUP, the group of the user's name (nginx's rule: `user nobody;` needs a group
    // "nobody", which Debian lacks; write `user nobody nogroup;` there).
    name: 'user', contexts: ['main'], args: [1, 2],
    apply(d, s) {
      const [user, group = user] = d.args;
      if (process.getuid?.() !== 0) {
        confWarning(s.main, `the "user" directive makes sense only if the master process runs with super-user privileges, ignored`, d);
        return;
      }
      const uid = lookupId('passwd', user);
      if (uid === null) throw confError('TRESTY_ERR_CONF_VALUE', `getpwnam("${user}") failed`, d);
      const gid = lookupId('group', group);
      if (gid === null) throw confError('TRESTY_ERR_CONF_VALUE', `getgrnam("${group}") failed`, d);
      s.main.user = { user, group, uid, gid };
    },
  },
  {
    name: 'worker_rlimit_nofile', contexts: ['main'], args: [1, 1],
    apply(d, s) {
      if (!/^\d+$/.test(d.args[0])) throw confError('TRESTY_ERR_CONF_VALUE', `"${d.name}" directive invalid number "${d.args[0]}"`, d);
      s.main.workerRlimitNofile = Number(d.args[0]);
    },
  },
  {
    // nginx's off_t slot: `500M`, `1g`; applied by each worker at start (setrlimit RLIMIT_CORE).
    name: 'worker_rlimit_core', contexts: ['main'], args: [1, 1],
    apply(d, s) {
      const v = parseSize(d.args[0]);
      if (v === null) throw confError('TRESTY_ERR_CONF_VALUE', `"${d.name}" directive invalid value`, d);
      s.main.workerRlimitCore = v;
    },
  },
  {
    // Relative to the prefix, as nginx's; each worker changes into it at start (core files land
    // there, and so do relative paths a handler opens).
    name: 'working_directory', contexts: ['main'], args: [1, 1],
    apply(d, s, ctx) { s.main.workingDirectory = ctx.abs(d.args[0]); },
  },
  {
    // `env NAME` keeps a variable (tresty keeps the whole environment, docs/directives.md says
    // why); `env NAME=VALUE` sets one in the workers.
    name: 'env', contexts: ['main'], args: [1, 1], multiple: true,
    apply(d, s) {
      const v = d.args[0];
      const eq = v.indexOf('=');
      if (eq === 0 || v === '') throw invalidValue(d, v);
      if (eq > 0) (s.main.env ??= new Map()).set(v.slice(0, eq), v.slice(eq + 1));
    },
  },
  {
    name: 'worker_shutdown_timeout', contexts: ['main'], args: [1, 1],
    apply(d, s) {
      const ms = parseTime(d.args[0]);
      if (ms === null) throw confError('TRESTY_ERR_CONF_VALUE', `"${d.name}" directive invalid value "${d.args[0]}"`, d);
      s.main.workerShutdownTimeout = ms;
    },
  },
];
