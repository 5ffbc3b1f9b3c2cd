// node:http's order of pipelined requests made nginx's: node parses them at once and would run
// their handlers side by side; nginx reads the next request once the answer before it went, and
// none after an answer that closes the connection (a special response's: exchange.ts `closing`).
// And node answers Expect: 100-continue itself before the request is looked at; the exchange
// sends `100 Continue` when nginx would (exchange.ts expectContinue).
import type http from 'node:http';
import type { Socket } from 'node:net';
import { closing, readBeforeAnswerEnded } from './exchange.js';

/** Requests that wait for `100 Continue` (node's checkContinue). */
const continuing = new WeakSet<http.IncomingMessage>();

/** Takes Expect: 100-continue requests from node as plain requests (no `100 Continue` sent yet). */
export function holdContinue(server: http.Server): void {
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    continuing.add(req);
    server.emit('request', req, res);
  });
  // Any other expectation: node answers 417 itself; nginx ignores it and serves the request.
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => { server.emit('request', req, res); });
}

export function expectsContinue(req: http.IncomingMessage): boolean {
  return continuing.has(req);
}

/** The answer in progress on each connection (the last request node handed over). */
const answering = new WeakMap<Socket, http.ServerResponse>();
/** Requests begun on each connection; the requests that came before the answer ahead went. */
const begun = new WeakMap<Socket, number>();
const pipelined = new WeakSet<http.IncomingMessage>();
const numbered = new WeakMap<http.IncomingMessage, number>();

/** $connection_requests of a request inTurn saw: the count when it came. */
export function requestsOn(req: http.IncomingMessage): number {
  return numbered.get(req) ?? 1;
}

/** $pipe: the request was read before the answer ahead of it ended. */
export function wasPipelined(req: http.IncomingMessage): boolean {
  return pipelined.has(req);
}

/** Runs `go` when the request's turn comes: at once, or once the answer before it on the
 *  connection went; never after an answer that closes the connection. */
export function inTurn(req: http.IncomingMessage, res: http.ServerResponse, go: () => void): void {
  const socket = req.socket;
  const prev = answering.get(socket);
  answering.set(socket, res);
  const n = (begun.get(socket) ?? 0) + 1;
  begun.set(socket, n);
  if (n > 1) numbered.set(req, n);
  if (prev !== undefined && (!prev.writableEnded || readBeforeAnswerEnded(socket))) pipelined.add(req);
  if (closing.has(socket)) return;
  if (prev === undefined || prev.writableFinished || prev.destroyed) return go();
  let once = false;
  const next = (): void => {
    if (once) return;
    once = true;
    if (!closing.has(socket) && !socket.destroyed) go();
  };
  prev.once('finish', next).once('close', next);
}
