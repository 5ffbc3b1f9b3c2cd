// The gateway's hook into the phase engine: a location with proxy_pass gets the proxy
// (src/proxy) as its content step. This file gives the proxy what only the engine has: the
// worker's upstreams, conf templates, and the way to run an upstream's balancer_by_js.

import path from 'node:path';
import type { LocationConf } from '../config/types.js';
import { ngxOf } from '../api/ngx.js';
import { balancerTries, type BalancerTry } from '../proxy/balancer-state.js';
import { proxyStep } from '../proxy/proxy.js';
import type { UpstreamRt } from '../proxy/upstreams.js';
import { Upstreams } from '../proxy/upstreams.js';
import { Call } from '../request/call.js';
import { CTX } from '../request/context.js';
import { INTERRUPT, isPromise } from '../request/interrupt.js';
import { handlerFailure } from '../request/failure.js';
import { logReq } from '../request/report.js';
import type { Req } from '../request/req.js';
import type { WorkerState } from '../request/worker.js';
import { call } from './invoke.js';
import type { LoadedHandler } from './loader.js';
import type { BuildCtx, Step } from './phase.js';
import { compileTemplate } from './template.js';
import { CacheZone } from '../cache/zone.js';
import { startSweeper } from '../cache/sweeper.js';

const registries = new WeakMap<WorkerState, Promise<Upstreams>>();

/** The worker's upstreams, built (and their host names resolved) once. */
function upstreamsOf(b: BuildCtx): Promise<Upstreams> {
  let u = registries.get(b.w);
  if (u === undefined) {
    const reg = new Upstreams(b.conf.http?.upstreams ?? new Map(), compileTemplate);
    u = reg.init().then(() => reg);
    registries.set(b.w, u);
  }
  return u;
}

const cacheZones = new WeakMap<WorkerState, Map<string, CacheZone>>();

/** The worker's proxy_cache_path zones; worker 0 sweeps them (nginx's cache manager). */
function cacheZonesOf(b: BuildCtx): Map<string, CacheZone> {
  let z = cacheZones.get(b.w);
  if (z === undefined) {
    const confs = [...b.conf.http?.cacheZones.values() ?? []];
    const zones = new Map(confs.map((c) => [c.name, new CacheZone(c)]));
    cacheZones.set(b.w, zones);
    if (b.w.id === 0 && confs.length > 0) startSweeper(confs, (name, file) => zones.get(name)?.drop(file));
    z = zones;
  }
  return z;
}

/** The content step of a location with proxy_pass, or null when it has none. */
export async function proxyContent(loc: LocationConf, b: BuildCtx): Promise<Step | null> {
  if (loc.proxy.pass === null) return null;
  const upstreams = await upstreamsOf(b);
  const handlers = new Map<UpstreamRt, LoadedHandler>();
  for (const u of b.conf.http?.upstreams.values() ?? []) {
    if (u.balancer === null) continue;
    const rt = upstreams.named(u.name)!;
    handlers.set(rt, await b.loader.load(u.balancer));
  }
  return proxyStep(loc, {
    compile: compileTemplate,
    upstreams,
    tempDir: path.join(b.conf.prefix, 'client_body_temp'),
    balancer: (r, rt, t) => runBalancer(r, handlers.get(rt)!, t),
    cacheZone: (name) => cacheZonesOf(b).get(name)!,
  });
}

/** balancer_by_js for one try: the handler sets the peer through tresty/balancer. */
async function runBalancer(r: Req, h: LoadedHandler, t: BalancerTry): Promise<boolean> {
  const c = new Call(CTX.balancer, r.w, r, h);
  const api = ngxOf(c);
  balancerTries.set(api, t);
  try {
    const v = call(c, h);
    if (isPromise(v)) await v;
    return true;
  } catch (e) {
    if (e === INTERRUPT) return true;
    // nginx's action while a balancer runs, before the context.
    logReq(r, 'error', `${handlerFailure(h, e)} while connecting to upstream`);
    return false;
  } finally {
    c.end();
    balancerTries.delete(api);
  }
}
