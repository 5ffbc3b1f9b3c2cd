// The time of the engine's batch being handled. nginx reads the clock once per turn of its event
// loop (ngx_time_update) and every request of that turn starts at that time and answers with that
// Date; Date.now() twice a request (the request's start, the Date header) was ~1% of a small
// request's CPU. Outside a batch (timers, awaited work) the clock is read each time.
let batchMs = 0;

/** The native front's batch begins: its requests start now. */
export function batchBegins(): void { batchMs = Date.now(); }

/** The batch returned: the time is read afresh again. */
export function batchEnds(): void { batchMs = 0; }

/** ms since the epoch: the batch's time inside one, else now. */
export function nowMs(): number { return batchMs !== 0 ? batchMs : Date.now(); }
