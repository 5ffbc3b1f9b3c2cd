// nginx's auth_request: a GET subrequest to the URI (no body; its answer's body is not used),
// run once in the access phase. Its status decides: 2xx lets the request on, 401 (with the
// subrequest's WWW-Authenticate) and 403 are the answer, anything else is a 500 with nginx's
// "auth request unexpected status" line. auth_request_set values are read from the subrequest
// (its $sent_http_*, $upstream_*, $status ...) and set on the request first, whatever the status.

import { evalParts } from '../api/map.js';
import { capture } from '../api/subrequest.js';
import { getVar, setVar } from '../api/vars.js';
import type { AuthRequestConf } from '../config/types.js';
import { OK } from '../request/codes.js';
import { headersOf } from '../request/headers.js';
import { logReq } from '../request/report.js';
import type { Req } from '../request/req.js';

export async function authRequest(r: Req, c: AuthRequestConf): Promise<number> {
  let sub: Req | null = null;
  let status: number;
  try {
    status = (await capture(r, c.uri, { method: 'GET' }, (s) => { sub = s; }, true)).status;
  } catch {
    // nginx: the subrequest could not be made (a cycle, a client gone): NGX_ERROR, a 500.
    return 500;
  }
  const s = sub as Req | null;
  if (s !== null) for (const x of c.set) setVar(r, x.variable, evalParts(s, x.value, getVar));
  if (status === 403) return 403;
  if (status === 401) {
    const h = s?.headers?.get('www-authenticate');
    const v = Array.isArray(h) ? h[0] : h;
    if (v !== undefined) headersOf(r).set('WWW-Authenticate', v);
    return 401;
  }
  if (status >= 200 && status < 300) return OK;
  logReq(r, 'error', `auth request unexpected status: ${status}`);
  return 500;
}
