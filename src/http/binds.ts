// Naming listen sockets: bindKey identifies one across the master and its workers, bindName is
// nginx's text for messages (`0.0.0.0:80`, `[::1]:8080`).

/** A listen socket the master made, as a worker receives it (its fd in the worker). */
export interface ListenFd { readonly key: string; readonly fd: number }

export function bindKey(b: { host: string; port: number }): string {
  return `${b.host}|${b.port}`;
}

export function bindName(b: { host: string; port: number }): string {
  const host = b.host === '' ? '0.0.0.0' : b.host.includes(':') ? `[${b.host}]` : b.host;
  return `${host}:${b.port}`;
}
