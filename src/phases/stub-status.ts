// nginx's stub_status as a content handler: the counters every worker keeps in the shared page
// (src/status/counters.ts), in nginx's exact text, with its trailing spaces.

import { OK } from '../request/codes.js';
import { emit } from '../request/output.js';
import { headersOf } from '../request/headers.js';
import { statusCounts } from '../status/counters.js';
import type { Step } from './phase.js';

export function stubStatusStep(): Step {
  return (r) => {
    if (r.method !== 'GET' && r.method !== 'HEAD') return 405;
    const c = statusCounts();
    const body = `Active connections: ${c.active} \nserver accepts handled requests\n ${c.accepted} ${c.handled} ${c.requests} \n`
      + `Reading: ${c.reading} Writing: ${c.writing} Waiting: ${c.waiting} \n`;
    const h = headersOf(r);
    h.set('Content-Type', 'text/plain');
    h.set('Content-Length', String(body.length));
    r.status = 200;
    r.headerSent = true;
    if (r.method !== 'HEAD') emit(r, body);
    return OK;
  };
}
