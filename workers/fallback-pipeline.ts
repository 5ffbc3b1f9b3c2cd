// TEMPORARY: used only while src/phases/index.ts does not exist yet. Answers `return` ops
// (server then location level) with $pid expanded, else 404. Delete once the pipeline lands.
import type { LocationConf, MainConf, RewriteOp, ServerConf } from '../src/config/types.js';
import { findLocation } from '../src/http/locations.js';
import type { HttpExchange, RequestHandler } from '../src/http/types.js';

function firstReturn(ops: readonly RewriteOp[]): { code: number; text?: string } | null {
  for (const op of ops) if (op.op === 'return') return op;
  return null;
}

export async function createWorkerPipeline(_conf: MainConf, _w: { id: number; count: number }): Promise<{ handle: RequestHandler; shutdown(): Promise<void> }> {
  const handle = (ex: HttpExchange, server: ServerConf): void => {
    const uri = ex.url.split('?')[0]!;
    const loc: LocationConf | null = findLocation(server, uri);
    const ret = firstReturn(server.rewriteOps) ?? (loc ? firstReturn(loc.rewriteOps) : null);
    const code = ret?.code ?? 404;
    const body = (ret?.text ?? '').replace(/\$pid\b/g, String(process.pid));
    ex.writeHead(code, [['Content-Type', 'text/plain'], ['Content-Length', String(Buffer.byteLength(body))]]);
    ex.end(body);
  };
  return { handle, async shutdown() { /* nothing held */ } };
}
