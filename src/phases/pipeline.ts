// The phase list, named once, and the flat pipeline each location gets at load (STYLE 2): the
// steps it really has in a fixed layout (rewrite-module script and rewrite_by_js in the order
// rewrite_by_js_no_postpone says, access, try_files, content), plus its filters and log step.
// Phases with nothing to do are null slots, so they cost a comparison per request.

import type { LocationConf, MainConf, RewriteOp, ServerConf } from '../config/types.js';
import { SLOTS, type LocPipeline } from '../request/pipe.js';
import { accessPhase } from './access.js';
import { bodyFilterPhase } from './body_filter.js';
import { contentPhase } from './content.js';
import { headerFilterPhase } from './header_filter.js';
import { applyLimitExcept } from './limit-except.js';
import { buildOutHeaders, inputHeadersStep } from './headers.js';
import { DECLINED, OK } from '../request/codes.js';
import { logPhase } from './log.js';
import type { BuildCtx, Step } from './phase.js';
import { rewritePhase } from './rewrite.js';
import { buildScript, scriptPhase } from './script.js';
import { tryFilesPhase } from './try_files.js';

export type { LocPipeline, Step };

export async function buildLocation(loc: LocationConf, b: BuildCtx): Promise<LocPipeline> {
  const noPostpone = b.conf.http?.rewriteNoPostpone ?? false;
  const script = await scriptPhase.build(loc, b);
  const rewrite = await rewritePhase.build(loc, b);
  const steps: Array<Step | null> = new Array<Step | null>(SLOTS).fill(null);
  // more_*_input_headers run after the rewrite-module script (they see its `set`s), before rewrite_by_js.
  const scriptThenInput = then(script, inputHeadersStep(loc));
  steps[0] = noPostpone ? rewrite : scriptThenInput;
  steps[1] = noPostpone ? scriptThenInput : rewrite;
  steps[2] = await accessPhase.build(loc, b);
  steps[3] = await tryFilesPhase.build(loc, b);
  steps[4] = await contentPhase.build(loc, b);
  applyLimitExcept(loc, steps, noPostpone ? 1 : 0, b);
  return {
    loc,
    steps,
    jsRewriteAt: noPostpone ? 0 : 1,
    headerFilter: await headerFilterPhase.build(loc, b),
    bodyFilter: await bodyFilterPhase.build(loc, b),
    outHeaders: buildOutHeaders(loc),
    log: await logPhase.build(loc, b),
  };
}

/** `a`, then `b` when `a` goes on (OK or DECLINED). */
function then(a: Step | null, b: Step | null): Step | null {
  if (a === null || b === null) return a ?? b;
  const goOn = (rc: number, r: Parameters<Step>[0]): number | Promise<number> => (rc === OK || rc === DECLINED ? b(r) : rc);
  return (r) => {
    const rc = a(r);
    return typeof rc === 'number' ? goOn(rc, r) : rc.then((v) => goOn(v, r));
  };
}

/** Every location of the conf (nested, named, `if` blocks and each server's defaults), each built once. */
export async function buildAll(conf: MainConf, b: BuildCtx): Promise<void> {
  const { pipes, serverOps } = b.w;
  const visit = async (loc: LocationConf): Promise<void> => {
    if (pipes.has(loc)) return;
    pipes.set(loc, await buildLocation(loc, b));
    for (const inner of loc.locations) await visit(inner);
    for (const ifLoc of ifLocations(loc.rewriteOps)) await visit(ifLoc);
  };
  for (const server of conf.http?.servers ?? []) {
    await visit(server.defaults);
    for (const loc of server.locations) await visit(loc);
    for (const loc of server.namedLocations.values()) await visit(loc);
    const ops = await buildScript(server.rewriteOps, b, server.defaults.jsCodeCache, server.defaults.std.rewriteLog === true);
    if (ops !== null) serverOps.set(server, ops);
  }
}

function ifLocations(ops: readonly RewriteOp[]): LocationConf[] {
  const out: LocationConf[] = [];
  for (const op of ops) {
    if (op.op !== 'if') continue;
    if (op.loc !== null) out.push(op.loc);
    out.push(...ifLocations(op.ops));
  }
  return out;
}

export type { ServerConf };
