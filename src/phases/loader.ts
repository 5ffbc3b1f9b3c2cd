// Turns HandlerSpecs into functions, once per worker: inline blocks are compiled with vm.Script
// under the conf file's name and line (stack traces point into the conf); handler files are
// imported once (module state is per worker), `.ts` transpiled on load by ts-hooks. Under
// `js_code_cache off` a file is imported afresh on every call.

import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { ConfError } from '../errors.js';
import type { HandlerSpec, MainConf } from '../config/types.js';
import { trestyModule } from './tresty-modules.js';

export type HandlerFn = (ngx: any, require: NodeRequire) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface LoadedHandler {
  readonly spec: HandlerSpec;
  /** `content_by_js` etc., for error lines. */
  readonly label: string;
  /** The file a stack frame must name to be the handler's own (conf file or handler file). */
  readonly file: string;
  /** The function, or null when it is re-imported per call (js_code_cache off). */
  readonly fn: HandlerFn | null;
  /** Imports a fresh copy (js_code_cache off). */
  load(): Promise<HandlerFn>;
  readonly require: NodeRequire;
}

let serial = 0;

export class Loader {
  private readonly cache = new Map<HandlerSpec, LoadedHandler>();
  private readonly uncached = new Map<HandlerSpec, LoadedHandler>();
  readonly require: NodeRequire;

  /**
   * `fresh`: import files past Node's module cache even on first load. The master needs it: it
   * runs init_by_js again on every reload, and a cached import would hide an edited file.
   */
  constructor(private readonly conf: MainConf, private readonly fresh = false) {
    this.require = makeRequire(conf);
    if (conf.jsPackagePath.length > 0) installHooks(conf);
  }

  /** Loads a handler; a load or compile error is a ConfError (TRESTY_ERR_CONF_HANDLER). */
  async load(spec: HandlerSpec, codeCache = true): Promise<LoadedHandler> {
    const map = codeCache || spec.source === 'block' ? this.cache : this.uncached;
    const known = map.get(spec);
    if (known) return known;
    const label = `${spec.phase}_by_js`;
    let h: LoadedHandler;
    if (spec.source === 'block') {
      // `await import('tresty/rack')` in a block resolves through the same hooks as files do.
      if (spec.code?.includes('import(')) installHooks(this.conf);
      h = { spec, label, file: spec.ref.file, fn: compileBlock(spec), load: async () => h.fn!, require: this.require };
    } else {
      const file = spec.path!;
      // Before the first file import: `.ts`, js_package_path and `import 'tresty/rack'` from a
      // prefix without tresty installed must resolve for every module the file pulls in, not
      // just the file itself (a failed import stays failed in Node's cache).
      installHooks(this.conf);
      const first = await importHandler(file, this.fresh, spec);
      h = {
        spec, label, file, require: this.require,
        fn: codeCache ? first : null,
        load: () => importHandler(file, true, spec),
      };
    }
    map.set(spec, h);
    return h;
  }
}

function compileBlock(spec: HandlerSpec): HandlerFn {
  const code = spec.code ?? '';
  // A block without `await` compiles to a plain function: no promise when it does not wait.
  const kind = /\bawait\b/.test(code) ? 'async function' : 'function';
  const src = `(${kind} (ngx, require) {${code}\n})`;
  const opts: vm.ScriptOptions = { filename: spec.ref.file, lineOffset: (spec.codeLine ?? spec.ref.line) - 1 };
  // `await import("x")` in a block: Node's own loader (an experimental flag on Node 20, so only
  // blocks that use it turn it on).
  const dynamic = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (dynamic && /\bimport\s*\(/.test(code)) opts.importModuleDynamically = dynamic as never;
  try {
    return new vm.Script(src, opts).runInThisContext() as HandlerFn;
  } catch (e) {
    // Not JavaScript: maybe TypeScript (type annotations, interfaces ...).
    const js = e instanceof SyntaxError ? stripTypes(src) : null;
    if (js !== null) {
      try { return new vm.Script(js, opts).runInThisContext() as HandlerFn; } catch { /* report the first error */ }
    }
    const line = syntaxLine(e, spec.ref.file) ?? spec.ref.line;
    throw new ConfError('TRESTY_ERR_CONF_HANDLER',
      `${spec.phase}_by_js_block failed to compile: ${errText(e)}`, spec.ref.file, line, { cause: e });
  }
}

/**
 * A TypeScript block as JavaScript, or null if it is not valid TypeScript either. The emitter
 * does not keep blank lines, so line numbers in a TypeScript block's traces are approximate.
 */
function stripTypes(src: string): string | null {
  const t = createRequire(import.meta.url)('typescript') as typeof import('typescript');
  const out = t.transpileModule(src, {
    reportDiagnostics: true,
    compilerOptions: { target: t.ScriptTarget.ES2022, module: t.ModuleKind.ESNext },
  });
  return out.diagnostics && out.diagnostics.length > 0 ? null : out.outputText;
}

function syntaxLine(e: unknown, file: string): number | undefined {
  const stack = e instanceof Error ? e.stack ?? '' : '';
  const m = new RegExp(`${escapeRe(file)}:(\\d+)`).exec(stack);
  return m ? Number(m[1]) : undefined;
}

function escapeRe(s: string): string { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }
function errText(e: unknown): string { return e instanceof Error ? `${e.name}: ${e.message}` : String(e); }

async function importHandler(file: string, fresh: boolean, spec: HandlerSpec): Promise<HandlerFn> {
  let mod: { default?: unknown };
  // A CommonJS file lives in require's cache, which a new URL does not bypass.
  if (fresh) delete createRequire(file).cache[file];
  try {
    mod = await import(pathToFileURL(file).href + (fresh ? `?tresty=${++serial}` : '')) as { default?: unknown };
  } catch (e) {
    const line = syntaxLine(e, file);
    // Gone since start (js_code_cache off): nginx + lua's words for a file it cannot open.
    const cause = fs.existsSync(file) ? e : Object.assign(new Error(`cannot open ${file}: No such file or directory`), { code: 'ENOENT' });
    throw new ConfError('TRESTY_ERR_CONF_HANDLER',
      `${spec.phase}_by_js_file "${file}" failed to load${line ? ` (${file}:${line})` : ''}: ${errText(e)}`,
      spec.ref.file, spec.ref.line, { cause });
  }
  const fn = mod.default;
  if (typeof fn !== 'function') {
    throw new ConfError('TRESTY_ERR_CONF_HANDLER',
      `${spec.phase}_by_js_file "${file}" has no default export function (export default (ngx) => { ... })`,
      spec.ref.file, spec.ref.line);
  }
  return fn as HandlerFn;
}

let hooked = false;

/**
 * Installs ts-hooks once per process: `.ts` modules transpiled on import, js_package_path for
 * bare `import`s, `tresty/*` resolved to this tresty. Only confs with handler files (or
 * js_package_path) pay for Node's hooks thread, and only at load: requests never meet it.
 */
export function installHooks(conf: MainConf): void {
  if (hooked) return;
  hooked = true;
  register(new URL('./ts-hooks.js', import.meta.url), {
    data: { packagePath: conf.jsPackagePath.map((d) => path.resolve(conf.prefix, d)) },
  });
  // Traces of transpiled modules point at the .ts lines (their inline source maps).
  process.setSourceMapsEnabled(true);
}

/**
 * `require` for handlers: relative to the prefix; bare names are looked up first in each
 * js_package_path folder (like NODE_PATH), then in node_modules from the prefix up; tresty's
 * handler modules are given as loaded.
 */
export function makeRequire(conf: MainConf): NodeRequire {
  const base = createRequire(path.join(conf.prefix, 'noop.js'));
  const dirs = conf.jsPackagePath.map((d) => path.resolve(conf.prefix, d));
  const resolve = (id: string): string => {
    if (dirs.length === 0) return base.resolve(id);
    if (!id.startsWith('.') && !path.isAbsolute(id) && !id.startsWith('node:')) {
      for (const d of dirs) {
        try { return base.resolve(path.join(d, id)); } catch { /* next folder */ }
      }
    }
    return base.resolve(id, { paths: [conf.prefix, ...dirs] });
  };
  // tresty/ssl, tresty/ocsp, tresty/balancer: the worker's own modules (tresty-modules.ts)
  const req = ((id: string) => trestyModule(id) ?? base(resolve(id))) as NodeRequire;
  return Object.assign(req, { resolve: Object.assign(resolve, { paths: base.resolve.paths }), cache: base.cache, main: base.main, extensions: base.extensions });
}
