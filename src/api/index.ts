// The ngx API's public types, for handler files written in TypeScript:
//   import type { Ngx } from 'tresty';
//   export default async (ngx: Ngx) => { ngx.say('hi'); };
export type { Ngx, NgxWorker, NgxLocation } from './ngx.js';
export type { NgxConstants } from './constants.js';
export type { OutResult } from '../request/out-result.js';
export type { NgxUtil } from './util.js';
export type { ReqApi } from './req.js';
export type { TimerApi, TimerCallback } from './timer.js';
export type { HeaderValue } from './headers.js';
export type { Args } from './args.js';
export type { CaptureOptions, CaptureResult } from './subrequest.js';
export { API_CONTEXTS, CTX } from './context.js';
