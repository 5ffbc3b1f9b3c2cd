// ssl_trusted_certificate on node:tls. Node has one CA list for verifying and for naming CAs to
// the client, and nginx names only ssl_client_certificate's: so node:tls is given those alone,
// and a client chain that ends in a CA of ssl_trusted_certificate (Node's verdict: issuer not
// found) is verified here after the handshake, as OpenSSL would: each certificate issued and
// signed by the next, each within its dates, up to a self-signed trusted root. With ssl_crl the
// trusted CAs go to Node as well (named, but revocation is checked by OpenSSL): docs say so.
import crypto from 'node:crypto';
import type tls from 'node:tls';

/** The PEM certificates of a file's text. */
export function pemCertificates(text: string): crypto.X509Certificate[] {
  const out: crypto.X509Certificate[] = [];
  for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)) {
    try {
      out.push(new crypto.X509Certificate(m[0]));
    } catch {
      // not a certificate OpenSSL would load either: skipped
    }
  }
  return out;
}

function within(c: crypto.X509Certificate, now: number): boolean {
  return Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
}

/**
 * The length of the chain from the socket's client certificate to a self-signed root among
 * `anchors` (the leaf and the root counted), through CAs the client sent or the anchors; 0 when
 * there is none.
 */
export function trustedChainLength(s: tls.TLSSocket, anchors: readonly crypto.X509Certificate[], now = Date.now()): number {
  const sent: crypto.X509Certificate[] = [];
  const seen = new Set<string>();
  for (let c: tls.DetailedPeerCertificate | undefined = s.getPeerCertificate(true); c?.raw !== undefined; c = c.issuerCertificate) {
    if (seen.has(c.fingerprint256)) break;
    seen.add(c.fingerprint256);
    sent.push(new crypto.X509Certificate(c.raw));
  }
  if (sent.length === 0) return 0;
  const pool = [...anchors, ...sent.slice(1)];
  const trusted = new Set(anchors.map((a) => a.fingerprint256));
  let cur = sent[0]!;
  for (let n = 1; n <= 16; n++) {
    if (!within(cur, now)) return 0;
    if (n > 1 && trusted.has(cur.fingerprint256) && cur.checkIssued(cur)) return n;
    const next = pool.find((x) => x.fingerprint256 !== cur.fingerprint256 && x.ca && cur.checkIssued(x) && cur.verify(x.publicKey));
    if (next === undefined) return 0;
    cur = next;
  }
  return 0;
}
