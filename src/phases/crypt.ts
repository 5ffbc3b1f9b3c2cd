// The password schemes of htpasswd files that nginx's ngx_crypt() checks: {PLAIN}, {SHA}, {SSHA},
// Apache's $apr1$, and the crypt(3) schemes glibc gives nginx that can be written with node's
// hashes: MD5-crypt ($1$, the algorithm of $apr1$) and SHA-crypt ($5$, $6$). Another crypt(3)
// hash (DES, yescrypt $y$, bcrypt $2y$ ...) is answered null: the caller logs and answers 500,
// as nginx does when crypt() fails.

import crypto from 'node:crypto';

const ITOA = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function to64(v: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++, v >>>= 6) s += ITOA[v & 0x3f];
  return s;
}

function md5crypt(pw: Buffer, setting: string, magic: string): string {
  const salt = setting.slice(magic.length).split('$')[0].slice(0, 8);
  const sb = Buffer.from(salt);
  const alt = crypto.createHash('md5').update(pw).update(sb).update(pw).digest();
  const ctx = crypto.createHash('md5').update(pw).update(magic).update(sb);
  for (let pl = pw.length; pl > 0; pl -= 16) ctx.update(alt.subarray(0, Math.min(16, pl)));
  for (let i = pw.length; i; i >>= 1) ctx.update(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  let f = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = crypto.createHash('md5');
    c.update(i & 1 ? pw : f);
    if (i % 3) c.update(sb);
    if (i % 7) c.update(pw);
    c.update(i & 1 ? f : pw);
    f = c.digest();
  }
  const t = (a: number, b: number, c: number): string => to64((f[a] << 16) | (f[b] << 8) | f[c], 4);
  return `${magic}${salt}$${t(0, 6, 12)}${t(1, 7, 13)}${t(2, 8, 14)}${t(3, 9, 15)}${t(4, 10, 5)}${to64(f[11], 2)}`;
}

const SHA256_ORDER = [[0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29]];
const SHA512_ORDER = [[0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7], [50, 8, 29],
  [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60],
  [40, 61, 19], [62, 20, 41]];

/** Repeats `b` to `len` bytes. */
function stretch(b: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i += b.length) b.copy(out, i, 0, Math.min(b.length, len - i));
  return out;
}

function shacrypt(pw: Buffer, setting: string, bits: 256 | 512): string | null {
  const magic = bits === 256 ? '$5$' : '$6$';
  const alg = bits === 256 ? 'sha256' : 'sha512';
  const hl = bits / 8;
  let rest = setting.slice(3);
  let rounds = 5000;
  let custom = false;
  const m = /^rounds=(\d+)\$/.exec(rest);
  if (m) {
    rounds = Math.min(999_999_999, Math.max(1000, Number(m[1])));
    custom = true;
    rest = rest.slice(m[0].length);
  }
  const salt = Buffer.from(rest.split('$')[0].slice(0, 16));
  const h = (): crypto.Hash => crypto.createHash(alg);
  const b = h().update(pw).update(salt).update(pw).digest();
  const a = h().update(pw).update(salt);
  let cnt = pw.length;
  for (; cnt > hl; cnt -= hl) a.update(b);
  a.update(b.subarray(0, cnt));
  for (cnt = pw.length; cnt > 0; cnt >>= 1) a.update(cnt & 1 ? b : pw);
  let A = a.digest();
  const dp = h();
  for (let i = 0; i < pw.length; i++) dp.update(pw);
  const P = stretch(dp.digest(), pw.length);
  const ds = h();
  for (let i = 0; i < 16 + A[0]; i++) ds.update(salt);
  const S = stretch(ds.digest(), salt.length);
  for (let r = 0; r < rounds; r++) {
    const c = h();
    c.update(r & 1 ? P : A);
    if (r % 3) c.update(S);
    if (r % 7) c.update(P);
    c.update(r & 1 ? A : P);
    A = c.digest();
  }
  let out = '';
  for (const [x, y, z] of bits === 256 ? SHA256_ORDER : SHA512_ORDER) out += to64((A[x] << 16) | (A[y] << 8) | A[z], 4);
  out += bits === 256 ? to64((A[31] << 8) | A[30], 3) : to64(A[63], 2);
  return `${magic}${custom ? `rounds=${m![1]}$` : ''}${salt.toString()}$${out}`;
}

/**
 * nginx's ngx_crypt(): `password` encrypted the way `stored` says, to be compared with it; null
 * for a scheme tresty cannot compute.
 */
export function cryptPassword(password: Buffer, stored: string): string | null {
  if (stored.startsWith('{PLAIN}')) return `{PLAIN}${password.toString('latin1')}`;
  if (stored.startsWith('{SHA}')) return `{SHA}${crypto.createHash('sha1').update(password).digest('base64')}`;
  if (stored.startsWith('{SSHA}')) {
    const salt = Buffer.from(stored.slice(6), 'base64').subarray(20);
    const d = crypto.createHash('sha1').update(password).update(salt).digest();
    return `{SSHA}${Buffer.concat([d, salt]).toString('base64')}`;
  }
  if (stored.startsWith('$apr1$')) return md5crypt(password, stored, '$apr1$');
  if (stored.startsWith('$1$')) return md5crypt(password, stored, '$1$');
  if (stored.startsWith('$5$')) return shacrypt(password, stored, 256);
  if (stored.startsWith('$6$')) return shacrypt(password, stored, 512);
  return null;
}
