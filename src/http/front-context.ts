// The error-log context of a request a front answers itself (a 413 before the pipeline sees the
// request): nginx's fields, as src/request/report.ts gives them for the pipeline's lines.
import type { ServerConf } from '../config/types.js';
import { requestContext } from '../log/index.js';
import type { HttpExchange } from './types.js';
import { serverName } from './vhost.js';

export function frontContext(ex: Pick<HttpExchange, 'remoteAddress' | 'method' | 'url' | 'httpVersion' | 'headers'>, srv: ServerConf): string {
  return requestContext({
    client: ex.remoteAddress,
    server: serverName(srv),
    request: `${ex.method} ${ex.url} HTTP/${ex.httpVersion}`,
    host: ex.headers.host,
    referrer: ex.headers.referer,
  });
}
