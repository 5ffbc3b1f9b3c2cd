// The phase list, named once, and the flat pipeline each location gets at load (STYLE 2): the
// steps it really has (set ops, rewrite, access, content) plus its filters and log step.
// Phases with nothing to do are simply absent, so they cost nothing per request.

import type { LocationConf, MainConf, ServerConf } from '../config/types.js';
import { accessPhase } from './access.js';
import { bodyFilterPhase } from './body_filter.js';
import { contentPhase } from './content.js';
import { headerFilterPhase } from './header_filter.js';
import { logPhase } from './log.js';
import type { LocPipeline } from '../request/pipe.js';
import type { BuildCtx, PhaseModule, Step } from './phase.js';
import { rewritePhase } from './rewrite.js';
import { buildOps, setPhase } from './set.js';

export type { LocPipeline, Step };

/** Request phases in order. access is skipped in subrequests, as nginx does. */
const REQUEST_PHASES: ReadonlyArray<PhaseModule<Step>> = [setPhase, rewritePhase, accessPhase, contentPhase];

export async function buildLocation(loc: LocationConf, b: BuildCtx): Promise<LocPipeline> {
  const steps: Step[] = [];
  const subSteps: Step[] = [];
  for (const phase of REQUEST_PHASES) {
    const s = await phase.build(loc, b);
    if (s === null) continue;
    steps.push(s);
    if (phase !== accessPhase) subSteps.push(s);
  }
  return {
    loc,
    steps,
    subSteps,
    headerFilter: await headerFilterPhase.build(loc, b),
    bodyFilter: await bodyFilterPhase.build(loc, b),
    log: await logPhase.build(loc, b),
  };
}

/** Every location of the conf (nested, named and each server's defaults), each built once. */
export async function buildAll(conf: MainConf, b: BuildCtx): Promise<void> {
  const { pipes, serverOps } = b.w;
  const visit = async (loc: LocationConf): Promise<void> => {
    if (pipes.has(loc)) return;
    pipes.set(loc, await buildLocation(loc, b));
    for (const inner of loc.locations) await visit(inner);
  };
  for (const server of conf.http?.servers ?? []) {
    await visit(server.defaults);
    for (const loc of server.locations) await visit(loc);
    for (const loc of server.namedLocations.values()) await visit(loc);
    const ops = await buildOps(server.rewriteOps, b, server.defaults.jsCodeCache);
    if (ops !== null) serverOps.set(server, ops);
  }
}

export function pipeOf(b: { pipes: Map<LocationConf, LocPipeline> }, loc: LocationConf): LocPipeline {
  return b.pipes.get(loc)!;
}

export type { ServerConf };
