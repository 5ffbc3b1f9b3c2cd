// Status lines and error pages as nginx writes them (ngx_http_status_lines), with `tresty` where
// nginx prints its name: the reason both fronts put in a status line, the native front's pages.
// nginx has a reason for these statuses only; for any other it sends none: `HTTP/1.1 599 `
// (observed on nginx 1.22 for 203, 226, 299, 306, 420, 509, 599, 999...).
import { software } from './software.js';

const NGINX: Record<number, string> = {
  101: 'Switching Protocols',
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 206: 'Partial Content',
  301: 'Moved Permanently', 302: 'Moved Temporarily', 303: 'See Other', 304: 'Not Modified',
  307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Not Allowed', 406: 'Not Acceptable', 408: 'Request Time-out', 409: 'Conflict', 410: 'Gone',
  411: 'Length Required', 412: 'Precondition Failed', 413: 'Request Entity Too Large',
  414: 'Request-URI Too Large', 415: 'Unsupported Media Type', 416: 'Requested Range Not Satisfiable',
  421: 'Misdirected Request', 429: 'Too Many Requests',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable', 504: 'Gateway Time-out', 505: 'HTTP Version Not Supported',
  507: 'Insufficient Storage',
};

/** nginx's reason for `status`, '' when it has none (the status line is then `HTTP/1.1 NNN `). */
export function reasonPhrase(status: number): string {
  return NGINX[status] ?? '';
}

/** nginx's own 49x codes: sent as `400 Bad Request` with a page that says why (nginx 1.22). */
const OWN: Record<number, string> = {
  494: 'Request Header Or Cookie Too Large',
  495: 'The SSL certificate error',
  496: 'No required SSL certificate was sent',
  497: 'The plain HTTP request was sent to HTTPS port',
};

/** The status a status line (and $status) carries: 494-497 go out as 400, as nginx sends them. */
export function wireStatus(status: number): number {
  return OWN[status] === undefined ? status : 400;
}

/** The special responses after which nginx closes the connection (ngx_http_special_response_handler
 *  turns keep-alive off for them, error_page or not); a handler's own body with one keeps it. */
const CLOSING = new Set([400, 413, 414, 495, 496, 497, 500, 501]);

export function closesConnection(status: number): boolean {
  return CLOSING.has(status);
}

/** The statuses nginx has a page for (ngx_http_error_pages); others are answered with no body. */
const PAGES = new Set([
  301, 302, 303, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 408, 409, 410, 411, 412, 413, 414, 415, 416, 421, 429, 494, 495, 496, 497, 498,
  500, 501, 502, 503, 504, 505, 507,
]);

export function hasPage(status: number): boolean {
  return PAGES.has(status);
}

/** nginx's page for `status` (494-497: the 400 page that says why; 498: the 404 page), signed `name`. */
export function errorPage(status: number, name = software()): string {
  const tail = `<hr><center>${name}</center>\r\n</body>\r\n</html>\r\n`;
  const own = OWN[status];
  if (own !== undefined) {
    return `<html>\r\n<head><title>400 ${own}</title></head>\r\n<body>\r\n`
      + `<center><h1>400 Bad Request</h1></center>\r\n<center>${own}</center>\r\n${tail}`;
  }
  // 498 keeps its status line, but nginx's table has the 404 page in its slot.
  const shown = status === 498 ? 404 : status;
  // nginx's 401 page says "Authorization Required" where its status line says "Unauthorized", its
  // 302 page "Found" where the line says "Moved Temporarily".
  const title = `${shown} ${shown === 401 ? 'Authorization Required' : shown === 302 ? 'Found' : reasonPhrase(shown)}`.trimEnd();
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n${tail}`;
}
