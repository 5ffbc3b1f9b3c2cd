// The host a request names: nginx takes an absolute target's (`GET http://h.example/p`) over the
// Host header, for the server it picks and for $host (observed on nginx 1.22).

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i;

/** The target's host (with its port) when the target is absolute, else the Host header. */
export function requestHost(url: string, host: string | string[] | undefined): string | undefined {
  if (url.charCodeAt(0) !== 0x2f) {
    const m = ABSOLUTE.exec(url);
    if (m && m[1]) return m[1];
  }
  return typeof host === 'string' ? host : undefined;
}

/** $request_uri: an absolute target from its path on (`http://h/p?q` is `/p?q`, `http://h` is
 *  `/`), as nginx's; an origin-form one as received. */
export function originForm(url: string): string {
  if (url.charCodeAt(0) === 0x2f) return url;
  const m = ABSOLUTE.exec(url);
  return m ? url.slice(m[0].length) || '/' : url;
}
