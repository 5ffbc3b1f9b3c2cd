// Loading a conf: read (recording a snapshot), parse, resolve, freeze.
// The master loads from disk; workers load from the master's snapshot.

import path from 'node:path';
import { ConfError, TrestyError } from '../errors.js';
import type { Directive } from './ast.js';
import { parseFile, parseText } from './parser.js';
import { resolve } from './resolve.js';
import { type ConfSnapshot, diskSource, snapshotSource } from './source.js';
import type { MainConf } from './types.js';

export type * from './types.js';
export type { ConfSnapshot } from './source.js';
export { directiveNames } from './resolve.js';

export interface LoadOptions {
  /** The main conf file; relative to `prefix` when not absolute. */
  readonly file: string;
  readonly prefix: string;
  /** Directives given with `-g`, applied at the main level after the file's. */
  readonly globals?: string;
  /** Resolve exactly these texts (a worker, from its master) instead of reading the disk. */
  readonly snapshot?: ConfSnapshot;
}

export interface LoadedConf {
  readonly conf: MainConf;
  readonly snapshot: ConfSnapshot;
}

/** Throws ConfError (message ends `in FILE:LINE`) or TrestyError for an unreadable main file. */
export function loadConf(opts: LoadOptions): LoadedConf {
  const prefix = path.resolve(opts.prefix);
  const file = path.resolve(prefix, opts.file);
  const source = opts.snapshot ? snapshotSource(opts.snapshot) : diskSource();
  const parseOpts = { source, confDir: path.dirname(file) };
  let directives: Directive[];
  try {
    directives = parseFile(file, parseOpts);
  } catch (e) {
    if (e instanceof ConfError) throw e;
    throw new TrestyError('TRESTY_ERR_CONF_OPEN', (e as Error).message);
  }
  if (opts.globals) directives = [...directives, ...parseText(opts.globals, 'command line', parseOpts)];
  return { conf: resolve(directives, prefix, file, (name) => source.lookup(name)), snapshot: source.snapshot };
}

/** `-T`: every file the conf was read from, each under nginx's header line. */
export function dumpConf(snapshot: ConfSnapshot): string {
  return Object.entries(snapshot.files)
    .map(([f, text]) => `# configuration file ${f}:\n${text}${text.endsWith('\n') ? '' : '\n'}`)
    .join('\n');
}
