// The NodeExchange of a request node:http hands to a front (server.ts's plain one, tls-front.ts's
// HTTP/1): what its connection knows of it ($connection, $connection_requests, $pipe, the listen
// it came on, HTTP/0.9, a held Expect: 100-continue), the same on both fronts.
import type http from 'node:http';
import type { ServerConf } from '../config/types.js';
import { bindName } from './binds.js';
import { NodeExchange } from './exchange.js';
import type { FrontRefusals } from './front-refusals.js';
import { isHttp09 } from './node-http09.js';
import { expectsContinue, requestsOn, wasPipelined } from './node-turns.js';
import type { Bind } from './vhost.js';

export function frontExchange(req: http.IncomingMessage, res: http.ServerResponse, refusals: FrontRefusals, bind: Bind, srv: ServerConf): NodeExchange {
  const ex = new NodeExchange(req, res);
  if (isHttp09(req.socket)) ex.http09 = true;
  ex.connection = refusals.numberOf(req.socket);
  ex.connectionRequests = requestsOn(req);
  ex.pipelined = wasPipelined(req);
  ex.connectionStart = refusals.startOf(req.socket);
  ex.listen = bindName(bind);
  ex.settings = srv.defaults.engine;
  ex.expectContinue = expectsContinue(req);
  return ex;
}
