// Status lines and error pages as nginx writes them (ngx_http_status_lines), with `tresty` where
// nginx prints its name: the reason both fronts put in a status line, the native front's pages.
// nginx has a reason for these statuses only; for any other it sends none: `HTTP/1.1 599 `
// (observed on nginx 1.22 for 203, 226, 299, 306, 420, 509, 599, 999...).
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

export function errorPage(status: number): string {
  const title = `${status} ${reasonPhrase(status)}`.trimEnd();
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>tresty</center>\r\n</body>\r\n</html>\r\n`;
}
