// The two HTTP engines a fault test runs on: the native one (skipped with the reason when its
// addon is not built) and node:http (with the master's sockets, or node:cluster without the addon).
import { ENGINE_BUILT } from './engine.js';

export interface EngineCase {
  readonly name: 'native' | 'node:http';
  /** Why this engine cannot run here, or null. */
  readonly skip: string | null;
  readonly env: Record<string, string>;
}

export const ENGINES: readonly EngineCase[] = [
  { name: 'native', skip: ENGINE_BUILT ? null : 'the native engine is not built', env: { TRESTY_HTTP_ENGINE: 'native' } },
  { name: 'node:http', skip: null, env: { TRESTY_HTTP_ENGINE: 'node' } },
];

/** `label (skipped: why)` when the engine cannot run. */
export function titled(e: EngineCase, label: string): string {
  return `${label} (${e.name})${e.skip ? ` (skipped: ${e.skip})` : ''}`;
}
