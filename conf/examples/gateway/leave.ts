// log_by_js_file: the requests limit_conn let in are over; free their places.
import type { Ngx } from 'tresty';
import { inFlight } from './limits.js';

export default (ngx: Ngx): void => { void inFlight.leave(ngx); };
