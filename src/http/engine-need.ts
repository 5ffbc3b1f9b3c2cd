// `http_engine native` on a machine where the addon was not built (no C compiler or Node's headers
// at install): a conf error at the directive, the same for the start and for `tresty -t`.
import type { HttpConf } from '../config/types.js';
import { ConfError, TrestyError } from '../errors.js';
import { engineUnavailable, loadEngine } from './native-binding.js';

/** Throws when the conf (or TRESTY_HTTP_ENGINE=native without a directive) asks for an engine not there. */
export function checkNativeEngine(http: HttpConf | null | undefined, env = process.env.TRESTY_HTTP_ENGINE): void {
  const want = http?.engine ?? (env === 'native' ? 'native' : undefined);
  if (want !== 'native' || loadEngine()) return;
  const ref = http?.engineRef;
  const what = ref ? '"http_engine native" is set' : 'TRESTY_HTTP_ENGINE=native is set';
  const message = `${what}, but the native engine cannot be used: ${engineUnavailable()}`;
  throw ref ? new ConfError('TRESTY_ERR_ENGINE', message, ref.file, ref.line) : new TrestyError('TRESTY_ERR_ENGINE', message);
}
