// ssl_stapling without ssl_stapling_file: what each certificate's stapling needs (its issuer, the
// responder's URL, the files a response is verified with), decided at start as nginx does when it
// sets stapling up. A certificate nginx would not staple gets nginx's `[warn] "ssl_stapling"
// ignored, ...` line instead (no issuer, no responder URL, a responder that is not http://) and the
// server goes on without stapling it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { ServerConf } from '../config/types.js';
import { pemCertificates } from './trusted-chain.js';

/** One certificate to fetch staples for. */
export interface StapleTarget {
  readonly server: ServerConf;
  /** ssl_certificate's path, as nginx's log lines name it */
  readonly certFile: string;
  readonly leaf: crypto.X509Certificate;
  readonly leafPem: Buffer;
  readonly issuerPem: Buffer;
  /** the certificate file (leaf, then its chain): its CAs are trusted signers, as nginx's extra chain */
  readonly chainPem: Buffer;
  /** ssl_trusted_certificate and ssl_client_certificate: what ssl_stapling_verify verifies with */
  readonly trustedPem: Buffer | null;
  readonly url: URL;
  readonly verify: boolean;
}

const pemOf = (c: crypto.X509Certificate): Buffer => Buffer.from(c.toString());

function readText(file: string | null): string {
  if (file === null) return '';
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return ''; // the TLS setup reports files it cannot read
  }
}

/** The certificates of the servers that fetch staples, and nginx's warnings for the others. */
export function stapleTargets(servers: readonly ServerConf[]): { targets: StapleTarget[]; warnings: string[] } {
  const targets: StapleTarget[] = [];
  const warnings: string[] = [];
  for (const s of servers) {
    const ssl = s.ssl;
    if (!ssl.stapling || ssl.staplingFile !== null || !s.listen.some((l) => l.ssl)) continue;
    const trustedText = readText(ssl.trustedCertificate) + readText(ssl.clientCertificate);
    const trusted = pemCertificates(trustedText);
    for (const pair of ssl.certificates) {
      const text = readText(pair.certificate);
      const [leaf, ...chain] = pemCertificates(text);
      if (leaf === undefined) continue;
      const file = pair.certificate;
      // nginx: the chain in the certificate file first, then the context's store
      const issuer = [...chain, ...trusted].find((c) => leaf.checkIssued(c));
      if (issuer === undefined) {
        warnings.push(`"ssl_stapling" ignored, issuer certificate not found for certificate "${file}"`);
        continue;
      }
      const responder = ssl.staplingResponder ?? ocspUrl(leaf);
      if (responder === null) {
        warnings.push(`"ssl_stapling" ignored, no OCSP responder URL in the certificate "${file}"`);
        continue;
      }
      if (!/^http:\/\//i.test(responder) || responder.length <= 7) {
        warnings.push(`"ssl_stapling" ignored, invalid URL prefix in OCSP responder "${responder}" in the certificate "${file}"`);
        continue;
      }
      let url: URL;
      try {
        url = new URL(responder);
      } catch {
        warnings.push(`"ssl_stapling" ignored, invalid host in OCSP responder "${responder.slice(7)}" in the certificate "${file}"`);
        continue;
      }
      targets.push({
        server: s, certFile: file, leaf, leafPem: pemOf(leaf), issuerPem: pemOf(issuer), chainPem: Buffer.from(text),
        trustedPem: trustedText === '' ? null : Buffer.from(trustedText), url, verify: ssl.staplingVerify,
      });
    }
  }
  return { targets, warnings };
}

/** The first OCSP URL of the certificate's Authority Information Access, as X509_get1_ocsp gives. */
export function ocspUrl(c: crypto.X509Certificate): string | null {
  const m = /^OCSP - URI:(.+)$/m.exec(c.infoAccess ?? '');
  return m ? m[1]!.trim() : null;
}
