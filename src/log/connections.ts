// The `*N` of error-log lines. nginx numbers every connection from one counter, the fake ones
// lua-nginx-module makes for a timer's run or an ssl_certificate_by_lua run too (observed on
// nginx 1.22 + lua: a request on *3, its timer's lines on *4, the next connection *5). tresty's
// node fronts and its fake connections take their numbers here. The native engine numbers its
// connections itself, in C from 1 (a uint32): while it runs, the numbers given here start above
// any it can give, so that a number still names one connection.

let last = 0;

/** A new connection's number. */
export function nextConnection(): number {
  return ++last;
}

/** The native engine numbers connections in this process: ours go above its range. */
export function engineNumbersConnections(): void {
  if (last < 2 ** 32) last += 2 ** 32;
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

/** `addr:port` as nginx names a listening socket (`[::1]:80` for IPv6). */
export function listenName(addr: string, port: number): string {
  return `${addr.includes(':') ? `[${addr}]` : addr}:${port}`;
}
