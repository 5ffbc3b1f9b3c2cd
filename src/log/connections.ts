// The `*N` of error-log lines. nginx numbers every connection from one counter, the fake ones
// lua-nginx-module makes for a timer's run or an ssl_certificate_by_lua run too (observed on
// nginx 1.22 + lua: a request on *3, its timer's lines on *4, the next connection *5). tresty's
// node fronts and its fake connections take their numbers here. While the native engine runs in
// the process, every number comes from the engine's own counter (in C, from 1), so that a number
// names one connection whichever front or fake connection has it.

let last = 0;
let source: (() => number) | null = null;

/** A new connection's number. */
export function nextConnection(): number {
  return source !== null ? source() : ++last;
}

/**
 * The native engine numbers connections in this process: every number is taken from its counter,
 * above the ones given before it started (`next(floor)` moves the counter past `floor` first).
 */
export function engineNumbersConnections(next: (floor: number) => number): void {
  const floor = last;
  source = () => next(floor);
}

/** Where a run outside a request logs (a timer, ssl_certificate_by_js): its fake connection. */
export interface LogOrigin {
  readonly connection: number;
  /** `, context: ngx.timer` and, when known, `, client: A, server: LISTEN`. */
  readonly tail: string;
  /** `, client: A, server: LISTEN`, or '' (a timer made in init_worker_by_js): what a timer it makes inherits. */
  readonly peer: string;
}

/** nginx's context for a fake connection: `, client: A` when known, `, server: LISTEN` (the listen address). */
export function peerContext(client: string | undefined, listen: string | undefined): string {
  return `${client ? `, client: ${client}` : ''}${listen ? `, server: ${listen}` : ''}`;
}
