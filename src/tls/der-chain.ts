// A DER certificate chain as lua-resty-core's ngx.ssl.cert_pem_to_der makes it: the DER of each
// certificate one after another, with nothing between. Each is an ASN.1 SEQUENCE, so its header
// says where it ends; tresty/ssl and tresty/ocsp split chains here.

/** The first `max` certificates' DER of a chain: the whole bytes of each, or null for bytes that
 *  are no SEQUENCE there (later bytes are not looked at, as OpenSSL's d2i_X509_bio reads on). */
export function derCertificates(der: Uint8Array, max = Infinity): Buffer[] | null {
  const b = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const out: Buffer[] = [];
  for (let at = 0; at < b.length && out.length < max;) {
    if (b[at] !== 0x30 || at + 2 > b.length) return null;
    let len = b[at + 1]!;
    let head = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || at + 2 + n > b.length) return null;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[at + 2 + i]!;
      head += n;
    }
    if (at + head + len > b.length) return null;
    out.push(b.subarray(at, at + head + len));
    at += head + len;
  }
  return out;
}

/** One certificate's DER as a PEM block. */
export function derToPem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

/** Concatenated DER certificates back as PEM blocks, or null for bytes that are not that. */
export function derChainToPem(der: Uint8Array): string | null {
  const certs = derCertificates(der);
  return certs === null || certs.length === 0 ? null : certs.map(derToPem).join('');
}
