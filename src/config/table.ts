// The directive table (STYLE 6): each row says where a directive is allowed, how many
// arguments it takes, whether it opens a block, and what it sets.

import { ConfError, type ErrorCode } from '../errors.js';
import type { Directive } from './ast.js';
import type { BlockKind, BlockState } from './builders.js';

export interface ResolveContext {
  readonly prefix: string;
  /** Resolves a path relative to the prefix (-p), as nginx does for root, logs and pid. */
  abs(p: string): string;
  /** The main conf file's folder (nginx's conf prefix: auth_basic_user_file is relative to it). */
  readonly confDir?: string;
  /** A host name's addresses as the conf load found them ([] when it does not resolve). */
  lookupHost(name: string): string[];
  /** Walks a child block with a new state. */
  walk(directives: readonly Directive[], state: BlockState): void;
}

export interface DirectiveRow {
  readonly name: string;
  readonly contexts: readonly BlockKind[];
  /** Minimum and maximum argument counts. */
  readonly args: readonly [number, number];
  /** 'block' opens `{ directives }`, 'raw' a verbatim JS block. */
  readonly block?: 'block' | 'raw';
  /** May appear more than once in one block. */
  readonly multiple?: boolean;
  /** Key for the duplicate check when several names set one thing (block and file handlers). */
  readonly dupKey?: string;
  apply(d: Directive, state: BlockState, ctx: ResolveContext): void;
}

export function confError(code: ErrorCode, message: string, d: { file: string; line: number }): ConfError {
  return new ConfError(code, message, d.file, d.line);
}

/** nginx's `[warn]` for a directive it takes but ignores or calls obsolete: kept for `-t` and the log. */
export function confWarning(main: { warnings?: string[] }, message: string, d: { file: string; line: number }): void {
  (main.warnings ??= []).push(`${message} in ${d.file}:${d.line}`);
}

export function invalidValue(d: Directive, value: string): ConfError {
  return confError('TRESTY_ERR_CONF_VALUE', `invalid value "${value}" in "${d.name}" directive`, d);
}

export function flagError(d: Directive): ConfError {
  return confError('TRESTY_ERR_CONF_VALUE',
    `invalid value "${d.args[0]}" in "${d.name}" directive, it must be "on" or "off"`, d);
}

/** A one-argument `on | off` directive: nginx's message for anything else, else `set(on)`. */
export function onOffRow(name: string, contexts: readonly BlockKind[], set: (on: boolean, s: BlockState) => void): DirectiveRow {
  return {
    name, contexts, args: [1, 1],
    apply(d, s) {
      if (d.args[0] !== 'on' && d.args[0] !== 'off') throw flagError(d);
      set(d.args[0] === 'on', s);
    },
  };
}
