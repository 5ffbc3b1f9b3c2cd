// Node module hooks (module.register), installed only when a conf has `.ts` handler files or a
// js_package_path, or a handler imports `tresty` from a prefix without it: `.ts` modules imported
// by handlers are transpiled on load (so a `.ts` handler may import other `.ts` files, also as
// `./x.js` the TypeScript way); bare `import`s look in the js_package_path folders when Node's own
// resolution finds nothing; `tresty` and `tresty/...` resolve to the tresty running the server.
// Runs on Node's hooks thread; it must not import tresty modules that expect the main thread.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface HookData { packagePath: string[] }
type Resolved = { url: string; format?: string | null; shortCircuit?: boolean };
type NextResolve = (specifier: string, context?: unknown) => Promise<Resolved>;
type Loaded = { format: string; source?: string | ArrayBuffer | Uint8Array | null; shortCircuit?: boolean };
type NextLoad = (url: string, context?: unknown) => Promise<Loaded>;

let packagePath: string[] = [];

export function initialize(data: HookData | undefined): void {
  packagePath = data?.packagePath ?? [];
}

const TS = /\.(ts|mts)$/;

/** tresty's own package.json: resolving from it makes `tresty/...` a self-reference. */
const SELF = new URL('../../../package.json', import.meta.url).href;

function isBare(s: string): boolean {
  return !s.startsWith('.') && !s.startsWith('/') && !/^[a-z][a-z0-9+.-]*:/i.test(s);
}

export async function resolve(specifier: string, context: { parentURL?: string }, next: NextResolve): Promise<Resolved> {
  try {
    return await next(specifier, context);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    const parent = context.parentURL;
    // `import './util.js'` from a .ts file names util.ts (TypeScript's convention).
    if (parent?.startsWith('file:') && (specifier.startsWith('.') || specifier.startsWith('/')) && /\.m?js$/.test(specifier)) {
      const ts = new URL(specifier.replace(/\.(m?)js$/, '.$1ts'), parent);
      if (fs.existsSync(fileURLToPath(ts))) return { url: ts.href, shortCircuit: true };
    }
    if (specifier === 'tresty' || specifier.startsWith('tresty/')) {
      return next(specifier, { ...context, parentURL: SELF });
    }
    if (isBare(specifier)) {
      for (const dir of packagePath) {
        try {
          const req = createRequire(path.join(dir, 'noop.js'));
          const file = req.resolve(path.join(dir, specifier));
          return { url: pathToFileURL(file).href, shortCircuit: true };
        } catch { /* next folder */ }
      }
    }
    throw e;
  }
}

let ts: typeof import('typescript') | null = null;

export async function load(url: string, context: unknown, next: NextLoad): Promise<Loaded> {
  const bare = url.split('?')[0];
  if (!bare.startsWith('file:') || !TS.test(bare)) return next(url, context);
  ts ??= (await import('typescript')).default;
  const file = fileURLToPath(bare);
  const out = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      inlineSourceMap: true,
      inlineSources: true,
      esModuleInterop: true,
    },
  });
  const bad = out.diagnostics?.find((d) => d.category === ts!.DiagnosticCategory.Error);
  if (bad) {
    const at = bad.file && bad.start !== undefined ? bad.file.getLineAndCharacterOfPosition(bad.start).line + 1 : 1;
    throw new SyntaxError(`${ts.flattenDiagnosticMessageText(bad.messageText, '\n')} (${file}:${at})`);
  }
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
