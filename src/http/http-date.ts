// The Date header's value, made once a second: every answer of both fronts carries one.
import { nowMs } from './clock.js';

let dateSec = -1;
let dateText = '';

/** `Tue, 01 Dec 2026 23:16:04 GMT` for now. */
export function httpDate(): string {
  const s = Math.floor(nowMs() / 1000);
  if (s !== dateSec) {
    dateSec = s;
    dateText = new Date(s * 1000).toUTCString();
  }
  return dateText;
}
