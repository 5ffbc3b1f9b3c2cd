// nginx's lingering close on the node:http front, after an answer that closes the connection (a
// special response's): our side is shut (FIN), and what the client still sends (the rest of a
// body, a pipelined request) is read and dropped until it closes, so that it gets the answer
// rather than a reset. node's parser reads the socket in C++ (no 'data' events to time each read
// by), so lingering_timeout counts from our FIN, within lingering_time.
import type { Socket } from 'node:net';
import type { EngineSettings } from '../config/types.js';

/** Makes node's close after the answer (its destroySoon) a lingering one, as `e` says. */
export function lingerAfterAnswer(socket: Socket, e: EngineSettings): void {
  if (e.lingeringClose === 'off' || e.lingeringTime === 0) return; // node's own: closed once written
  const s = socket as Socket & { destroySoon(): void };
  s.destroySoon = (): void => {
    if (socket.destroyed) return;
    socket.end();
    const t = setTimeout(() => socket.destroy(), Math.min(e.lingeringTime, e.lingeringTimeout));
    t.unref();
    socket.once('end', () => socket.destroy());
    socket.once('close', () => clearTimeout(t));
    socket.resume();
  };
}
