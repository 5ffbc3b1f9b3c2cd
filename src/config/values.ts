// Parsers for nginx's argument types. Each returns null for an invalid value so the
// caller can raise the directive's own message.

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `512`, `10k`, `1m`, `2G` → bytes. */
export function parseSize(s: string): number | null {
  const m = /^(\d+)([kKmMgG]?)$/.exec(s);
  if (!m) return null;
  return Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()];
}

const TIME_UNITS: Record<string, number> = {
  ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, M: 30 * 86_400_000, y: 365 * 86_400_000,
};

/** `75`, `75s`, `500ms`, `1m30s` → milliseconds (a bare number is seconds, as nginx). */
export function parseTime(s: string): number | null {
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const re = /(\d+)(ms|s|m|h|d|w|M|y)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * TIME_UNITS[m[2]];
    consumed = re.lastIndex;
  }
  return consumed === s.length && s.length > 0 ? total : null;
}

export function parseFlag(s: string): boolean | null {
  if (s === 'on') return true;
  if (s === 'off') return false;
  return null;
}

export function parsePort(s: string): number | null {
  if (!/^\d+$/.test(s)) return null;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : null;
}

/** `[host:]port`, `[::1]:port`, `host` (port 80), `*:port`. */
export function parseListenAddress(s: string): { host: string; port: number } | { error: string } {
  let host = '';
  let portText: string;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(s);
  if (v6) {
    host = v6[1];
    portText = v6[2] ?? '80';
  } else if (/^\d+$/.test(s)) {
    portText = s;
  } else {
    const i = s.lastIndexOf(':');
    if (i < 0) {
      host = s;
      portText = '80';
    } else {
      host = s.slice(0, i);
      portText = s.slice(i + 1);
    }
  }
  if (host === '*') host = '';
  const port = parsePort(portText);
  if (port === null) return { error: `invalid port in "${s}" of the "listen" directive` };
  return { host, port };
}
