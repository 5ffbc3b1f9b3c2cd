// ssl_stapling on the engine's TLS: the engine keeps each certificate's staple (tls_ocsp.c) and,
// when a handshake asks for one and a fetch is due, asks here inside its pass; the fetch starts
// from an immediate (the handshake goes on without it) and its outcome goes back by server and
// certificate slot.
import type { ErrorLog } from '../log/index.js';
import type { StapleTarget } from '../tls/ocsp-plan.js';
import { fetchStaple, type OcspTools } from '../tls/ocsp-stapler.js';
import type { EngineBinding } from './native-binding.js';

/** Hooks the engine's staple requests to fetches for `targets` (by server index). */
export function engineStapling(native: EngineBinding, targets: ReadonlyMap<number, readonly StapleTarget[]>, log: ErrorLog): void {
  if (!native.tlsOcspHook || !native.tlsStaple || !native.ocspRequest || !native.ocspCheck || targets.size === 0) return;
  const tools = native as Required<Pick<EngineBinding, 'ocspRequest' | 'ocspCheck'>> & OcspTools;
  native.tlsOcspHook((server, slot, cert) => {
    const t = targets.get(server)?.find((x) => x.leaf.raw.equals(cert));
    // a certificate nginx would not staple (warned at start): never answered, so never asked again
    if (t === undefined) return;
    setImmediate(() => {
      void fetchStaple(t, tools, log).then((u) => { native.tlsStaple!(server, slot, u.der, u.valid, u.refresh); });
    });
  });
}
