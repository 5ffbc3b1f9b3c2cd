// The listen sockets, owned by the master when the native engine's addon is built: each is made
// once, kept across reloads while the conf still listens there, and handed to every worker (the
// same fd: all workers accept from one queue). A reload never closes a socket that connections
// are queued on, and a retiring worker simply stops accepting from it.
import type { HttpConf } from '../config/types.js';
import { TrestyError } from '../errors.js';
import type { EngineBinding } from '../http/native-binding.js';
import { bindKey, bindName, type ListenFd } from '../http/binds.js';
import { planBinds } from '../http/vhost.js';

export class Listeners {
  private readonly open = new Map<string, number>();

  constructor(private readonly native: EngineBinding) {}

  /** The sockets of a conf, opening the ones not open yet; throws TRESTY_ERR_LISTEN (nginx's text). */
  forConf(http: HttpConf | null): ListenFd[] {
    if (!http) return [];
    const fresh: number[] = [];
    const out: ListenFd[] = [];
    try {
      for (const b of planBinds(http)) {
        const key = bindKey(b);
        let fd = this.open.get(key);
        if (fd === undefined) {
          try {
            fd = this.native.listen(b.host, b.port, 511);
          } catch (e) {
            const err = e as Error & { code?: string };
            throw new TrestyError('TRESTY_ERR_LISTEN', `bind() to ${bindName(b)} failed (${err.code ?? 'error'}: ${err.message})`, { cause: e });
          }
          this.open.set(key, fd);
          fresh.push(fd);
        }
        out.push({ key, fd });
      }
    } catch (e) {
      for (const fd of fresh) this.closeFd(fd);
      throw e;
    }
    return out;
  }

  /** Closes the sockets no conf in use needs any more (after the old workers of a reload left). */
  keepOnly(inUse: readonly (readonly ListenFd[])[]): void {
    const keep = new Set(inUse.flat().map((l) => l.fd));
    for (const fd of [...this.open.values()]) if (!keep.has(fd)) this.closeFd(fd);
  }

  private closeFd(fd: number): void {
    for (const [k, v] of this.open) if (v === fd) this.open.delete(k);
    this.native.closeFd(fd);
  }
}
