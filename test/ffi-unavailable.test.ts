// Without the native host (not built), loading says how to build it.
import { expect, it } from 'vitest';
import { loadFfi } from '../src/ffi/index.js';

it('throws TRESTY_ERR_FFI_UNAVAILABLE with what to do when the host is not built', () => {
  process.env.TRESTY_HOST_LIB = '/nonexistent/libtresty_host.so';
  try {
    expect(() => loadFfi('tresty_test_echo')).toThrow(expect.objectContaining({
      code: 'TRESTY_ERR_FFI_UNAVAILABLE', message: expect.stringContaining('npm run build'),
    }));
  } finally {
    delete process.env.TRESTY_HOST_LIB;
  }
});
