// nginx's rewrite-module directives (`set`, `return`, `if`, `rewrite`, `break`) and the core
// ones that steer a request inside the server (`try_files`, `error_page`, `internal`). The
// rewrite ops of a server or location form one script, run in conf order; an `if` block's ops
// run in place when its condition holds (nginx compiles them into the same code array).

import { confRegex } from './conf-regex.js';
import type { Directive } from './ast.js';
import { type BlockState, type IfBuilder, type LocationBuilder, newSettings } from './builders.js';
import { confError, type DirectiveRow, invalidValue } from './table.js';
import { isFixedVar } from './var-names.js';
import type { IfCondition } from './types.js';

const SL = ['server', 'location'] as const;
/** Where the rewrite module's ops may stand: server, location and the `if` blocks in them. */
const SCRIPT = ['server', 'sif', 'location', 'lif'] as const;

function varName(d: Directive, arg: string): string {
  if (!arg.startsWith('$') || arg.length < 2) throw confError('TRESTY_ERR_CONF_VALUE', `invalid variable name "${arg}"`, d);
  const name = arg.slice(1).toLowerCase();
  // nginx adds a `set` variable as changeable: a built-in that is not refuses at load.
  if (isFixedVar(name)) throw confError('TRESTY_ERR_CONF_DUPLICATE', `the duplicate "${arg.slice(1)}" variable`, d);
  return name;
}

/** A conf regex (PCRE, src/pcre.ts's translation). */
function compileRegex(d: Directive, src: string, caseless: boolean): RegExp {
  try {
    return confRegex(src, caseless);
  } catch (e) {
    throw confError('TRESTY_ERR_CONF_VALUE', `pcre_compile() failed: ${(e as Error).message} in "${src}"`, d);
  }
}

const FILE_TESTS = new Set(['-f', '!-f', '-d', '!-d', '-e', '!-e', '-x', '!-x']);
const REGEX_OPS = new Set(['~', '~*', '!~', '!~*']);

/** `($a = b)`, `($a ~* re)`, `(-f $path)`, `($a)`: nginx's tokens with the parentheses split off. */
export function parseCondition(d: Directive): IfCondition {
  const args = [...d.args];
  const bad = (): never => { throw confError('TRESTY_ERR_CONF_VALUE', `invalid condition "${d.args.join(' ')}"`, d); };
  if (args.length === 0 || !args[0].startsWith('(')) bad();
  args[0] = args[0].slice(1);
  if (args[0] === '') args.shift();
  const last = args.length - 1;
  if (last < 0 || !args[last].endsWith(')')) bad();
  args[last] = args[last].slice(0, -1);
  if (args[last] === '') args.pop();
  if (args.length === 2 && FILE_TESTS.has(args[0])) {
    const negate = args[0].startsWith('!');
    return { kind: 'file', negate, test: args[0].slice(negate ? 2 : 1) as 'f' | 'd' | 'e' | 'x', path: args[1] };
  }
  if (args.length === 0 || !args[0].startsWith('$') || args[0].length < 2) bad();
  if (args.length === 1) return { kind: 'var', value: args[0] };
  if (args.length !== 3) bad();
  const [left, op, right] = args;
  if (op === '=' || op === '!=') return { kind: 'eq', negate: op === '!=', left, right };
  if (REGEX_OPS.has(op)) {
    return { kind: 'regex', negate: op.startsWith('!'), left, regex: compileRegex(d, right, op.endsWith('*')), source: right };
  }
  throw confError('TRESTY_ERR_CONF_VALUE', `unexpected "${op}" in condition`, d);
}

function ifBlock(d: Directive, s: BlockState, ctx: Parameters<DirectiveRow['apply']>[2]): void {
  const cond = parseCondition(d);
  const ref = { file: d.file, line: d.line };
  const inLocation = s.kind === 'location';
  const parent = s.location;
  const loc: LocationBuilder | null = inLocation && parent
    ? { modifier: parent.modifier, pattern: parent.pattern, regex: parent.regex, ref, settings: newSettings(), rewriteOps: [], locations: [] }
    : null;
  const op: IfBuilder = { op: 'if', cond, ops: [], loc, ref };
  s.rewriteOps!.push(op);
  ctx.walk(d.block!, {
    kind: inLocation ? 'lif' : 'sif', main: s.main, http: s.http, server: s.server, location: parent,
    settings: loc?.settings, rewriteOps: op.ops, seen: new Set(),
  });
}

const FLAGS = new Set(['last', 'break', 'redirect', 'permanent']);
const ERROR_CODE = /^[3-5]\d\d$/;

export const rewriteDirectives: readonly DirectiveRow[] = [
  {
    name: 'set', contexts: SCRIPT, args: [2, 2], multiple: true,
    apply(d, s) {
      const variable = varName(d, d.args[0]);
      s.server!.variables.add(variable);
      s.rewriteOps!.push({ op: 'set', variable, value: d.args[1], ref: { file: d.file, line: d.line } });
    },
  },
  {
    name: 'return', contexts: SCRIPT, args: [1, 2], multiple: true,
    apply(d, s) {
      const [a, b] = d.args;
      const ref = { file: d.file, line: d.line };
      if (d.args.length === 1 && !/^\d+$/.test(a)) {
        if (!/^(https?:\/\/|\$scheme)/.test(a)) throw confError('TRESTY_ERR_CONF_VALUE', `invalid return code "${a}"`, d);
        s.rewriteOps!.push({ op: 'return', code: 302, text: a, ref });
        return;
      }
      const code = Number(a);
      if (!/^\d+$/.test(a) || code > 999) throw confError('TRESTY_ERR_CONF_VALUE', `invalid return code "${a}"`, d);
      s.rewriteOps!.push(b === undefined ? { op: 'return', code, ref } : { op: 'return', code, text: b, ref });
    },
  },
  { name: 'if', contexts: SL, args: [1, 16], block: 'block', multiple: true, apply: ifBlock },
  {
    name: 'rewrite', contexts: SCRIPT, args: [2, 3], multiple: true,
    apply(d, s) {
      const [re, replacement, flag] = d.args;
      if (flag !== undefined && !FLAGS.has(flag)) throw confError('TRESTY_ERR_CONF_VALUE', `invalid parameter "${flag}"`, d);
      s.rewriteOps!.push({
        op: 'rewrite', regex: compileRegex(d, re, false), source: re, replacement,
        flag: (flag ?? null) as 'last' | 'break' | 'redirect' | 'permanent' | null, ref: { file: d.file, line: d.line },
      });
    },
  },
  { name: 'break', contexts: SCRIPT, args: [0, 0], multiple: true, apply(d, s) { s.rewriteOps!.push({ op: 'break', ref: { file: d.file, line: d.line } }); } },
  {
    name: 'try_files', contexts: ['location'], args: [2, 32],
    apply(d, s) { s.location!.tryFiles = { files: d.args.slice(0, -1), fallback: d.args[d.args.length - 1] }; },
  },
  {
    name: 'error_page', contexts: ['http', 'server', 'location', 'lif'], args: [2, 32], multiple: true,
    apply(d, s) {
      const args = d.args;
      const target = args[args.length - 1];
      let codesEnd = args.length - 1;
      let overwrite = -1;
      const eq = args[args.length - 2];
      if (eq.startsWith('=')) {
        if (args.length === 2) throw invalidValue(d, eq);
        if (eq.length > 1) {
          if (!/^=\d+$/.test(eq)) throw invalidValue(d, eq);
          overwrite = Number(eq.slice(1));
        } else {
          overwrite = 0;
        }
        codesEnd--;
      }
      const pages = (s.settings!.errorPages ??= new Map());
      for (const c of args.slice(0, codesEnd)) {
        if (!ERROR_CODE.test(c) || c === '304') {
          throw confError('TRESTY_ERR_CONF_VALUE', `value "${c}" must be between 300 and 599`, d);
        }
        pages.set(Number(c), { target, overwrite });
      }
    },
  },
  { name: 'internal', contexts: ['location'], args: [0, 0], apply(_d, s) { s.location!.internal = true; } },
];
