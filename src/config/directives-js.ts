// Directives of the JS phases: `<phase>_by_js_block { ... }`, `<phase>_by_js_file path;`,
// set_by_js, js_package_path and js_code_cache.

import type { Directive } from './ast.js';
import type { BlockState } from './builders.js';
import { confError, type DirectiveRow, flagError, type ResolveContext } from './table.js';
import type { HandlerSpec, PhaseName } from './types.js';
import { parseFlag } from './values.js';

const HANDLER_EXT = /\.(js|mjs|cjs|ts|mts)$/;

export function handler(phase: HandlerSpec['phase'], d: Directive, ctx: ResolveContext, fileArg?: string): HandlerSpec {
  const ref = { file: d.file, line: d.line };
  if (d.raw) return { phase, source: 'block', code: d.raw.code, codeLine: d.raw.line, ref };
  const p = fileArg!;
  if (!HANDLER_EXT.test(p)) {
    throw confError('TRESTY_ERR_CONF_VALUE', `handler file "${p}" must end in .js, .mjs or .ts`, d);
  }
  return { phase, source: 'file', path: ctx.abs(p), ref };
}

function setHandler(phase: PhaseName, d: Directive, s: BlockState, h: HandlerSpec): void {
  if (phase === 'init') s.main.init = h;
  else if (phase === 'init_worker') s.main.initWorker = h;
  else s.settings!.handlers[phase] = h;
}

function phaseRows(phase: PhaseName): DirectiveRow[] {
  // As lua-nginx-module: every request phase but set may also stand in a location's `if` block.
  const contexts = phase === 'init' || phase === 'init_worker' ? ['http'] as const : ['http', 'server', 'location', 'lif'] as const;
  return [
    {
      name: `${phase}_by_js_block`, contexts, args: [0, 0], block: 'raw', dupKey: `${phase}_by_js`,
      apply(d, s, ctx) { setHandler(phase, d, s, handler(phase, d, ctx)); },
    },
    {
      name: `${phase}_by_js_file`, contexts, args: [1, 1], dupKey: `${phase}_by_js`,
      apply(d, s, ctx) { setHandler(phase, d, s, handler(phase, d, ctx, d.args[0])); },
    },
  ];
}

function setByJs(d: Directive, s: BlockState, ctx: ResolveContext, fileArg: string | undefined, args: readonly string[]): void {
  const name = d.args[0];
  if (!name.startsWith('$') || name.length < 2) throw confError('TRESTY_ERR_CONF_VALUE', `invalid variable name "${name}"`, d);
  const variable = name.slice(1).toLowerCase();
  s.server!.variables.add(variable);
  s.rewriteOps!.push({ op: 'set_by_js', handler: { ...handler('set', d, ctx, fileArg), variable, args } });
}

function pathList(args: readonly string[], ctx: ResolveContext): string[] {
  // Accept both `a b` and `"a;b"` (lua_package_path style); empty parts (`;;`) are dropped.
  return args.flatMap((a) => a.split(/[;:]/)).filter((p) => p !== '').map((p) => ctx.abs(p));
}

export const jsDirectives: readonly DirectiveRow[] = [
  ...(['init', 'init_worker', 'rewrite', 'access', 'content', 'header_filter', 'body_filter', 'log'] as const).flatMap(phaseRows),
  {
    name: 'set_by_js_block', contexts: ['server', 'sif', 'location', 'lif'], args: [1, 32], block: 'raw', multiple: true,
    apply(d, s, ctx) { setByJs(d, s, ctx, undefined, d.args.slice(1)); },
  },
  {
    name: 'set_by_js_file', contexts: ['server', 'sif', 'location', 'lif'], args: [2, 32], multiple: true,
    apply(d, s, ctx) { setByJs(d, s, ctx, d.args[1], d.args.slice(2)); },
  },
  {
    name: 'js_package_path', contexts: ['http'], args: [1, 16],
    apply(d, s, ctx) { s.main.jsPackagePath.push(...pathList(d.args, ctx)); },
  },
  ...(['rewrite', 'access'] as const).map((phase): DirectiveRow => ({
    name: `${phase}_by_js_no_postpone`, contexts: ['http'], args: [1, 1],
    apply(d, s) {
      const f = parseFlag(d.args[0]);
      if (f === null) throw flagError(d);
      if (phase === 'rewrite') s.http!.rewriteNoPostpone = f;
      else s.http!.accessNoPostpone = f;
    },
  })),
  ...(['pending', 'running'] as const).map((kind): DirectiveRow => ({
    name: `js_max_${kind}_timers`, contexts: ['http'], args: [1, 1],
    apply(d, s) {
      if (!/^\d+$/.test(d.args[0])) throw confError('TRESTY_ERR_CONF_VALUE', `invalid number "${d.args[0]}"`, d);
      if (kind === 'pending') s.http!.maxPendingTimers = Number(d.args[0]);
      else s.http!.maxRunningTimers = Number(d.args[0]);
    },
  })),
  {
    name: 'js_code_cache', contexts: ['http', 'server', 'location'], args: [1, 1],
    apply(d, s) {
      const f = parseFlag(d.args[0]);
      if (f === null) throw flagError(d);
      s.settings!.jsCodeCache = f;
    },
  },
];

export { pathList };
