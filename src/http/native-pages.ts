// Status lines and error pages as nginx writes them (ngx_http_status_lines; node's texts for the
// rest), with `tresty` where nginx prints its name: the native front's own answers.
import { STATUS_CODES } from 'node:http';

const NGINX: Record<number, string> = {
  302: 'Moved Temporarily', 405: 'Not Allowed', 408: 'Request Time-out', 413: 'Request Entity Too Large',
  414: 'Request-URI Too Large', 416: 'Requested Range Not Satisfiable', 503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

const cache = new Map<number, string>();

export function reasonPhrase(status: number): string {
  let r = cache.get(status);
  if (r === undefined) {
    r = NGINX[status] ?? STATUS_CODES[status] ?? 'Unknown';
    cache.set(status, r);
  }
  return r;
}

export function errorPage(status: number): string {
  const title = `${status} ${reasonPhrase(status)}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>tresty</center>\r\n</body>\r\n</html>\r\n`;
}
