// Who a cosocket belongs to: the request that made it, or a request-less run (a timer callback,
// an ssl_certificate_by_js handshake). It is closed when that ends, and using it from anywhere
// else throws "bad request", as OpenResty's cosockets are tied to their request.

import { TrestyError } from '../errors.js';
import { activeTimer, type Call, currentCall } from '../request/call.js';
import { apiDisabled } from '../request/context.js';
import type { Req } from '../request/req.js';
import { MASK } from './context.js';

export function badRequest(): TrestyError {
  return new TrestyError('TRESTY_ERR_API_BAD_REQUEST', 'bad request');
}

export class SocketOwner {
  /** The request or run is over (its sockets were closed). */
  dead = false;
  readonly req: Req | null;

  /** `call`: the context the socket was made in; `kill` closes the socket when it ends. */
  constructor(readonly call: Call, kill: () => void) {
    this.req = call.req;
    const list = call.req !== null ? (call.req.cleanups ??= []) : (call.cleanups ??= []);
    list.push(() => { this.dead = true; kill(); });
  }

  /**
   * Throws unless the caller may use the socket now: its owner still runs, the code running is
   * the owner's (when that can be known: a handler's synchronous part, a timer callback's), and
   * the owner's phase allows cosockets.
   */
  check(): void {
    if (this.dead) throw badRequest();
    const cur = activeTimer ?? currentCall;
    const r = this.req;
    if (r !== null) {
      if (cur !== null && cur.req !== r) throw badRequest();
      if ((r.phase & MASK.socket) === 0) throw apiDisabled(r.phase);
    } else if (cur !== null && cur !== this.call) {
      throw badRequest();
    }
  }
}
