import { defineConfig } from 'vitest/config';

// The whole suite runs on the native HTTP engine (the default when it is built); a representative
// part runs again as on a machine where it could not be built: node:http behind the same seam,
// workers forked by node:cluster (TRESTY_NO_NATIVE_ENGINE=1). The proxy's tests run a third way,
// their upstream sockets on node:net (TRESTY_PROXY_TRANSPORT=net) instead of the engine's.
const ON_NODE_HTTP = [
  'test/http.test.ts', 'test/api.test.ts', 'test/phases.test.ts', 'test/phases-output.test.ts', 'test/vhost.test.ts',
  'test/rack-stream.test.ts', 'test/master.test.ts', 'test/faults-conns.test.ts', 'test/faults-worker.test.ts', 'test/faults-watchdog.test.ts',
];
// The proxy's tests run again with its upstream sockets on node:net instead of the native engine's.
const ON_NET_TRANSPORT = ['test/proxy*.test.ts', 'test/balancer.test.ts', 'test/tls.test.ts'];
// TLS listens the native engine takes run again on node:tls (test/tls-engine.test.ts does both itself).
const ON_NODE_TLS = ['test/tls.test.ts', 'test/tls-dhparam.test.ts', 'test/tls-client.test.ts', 'test/tls-sni.test.ts', 'test/tls-client-pages.test.ts',
  'test/tls-reject.test.ts', 'test/tls-verify-host.test.ts', 'test/tls-offered.test.ts',
  'test/tls-trusted.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers; 2 cores do not gain from more parallel files.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'native', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'node:http', include: ON_NODE_HTTP, env: { TRESTY_NO_NATIVE_ENGINE: '1' } } },
      { extends: true, test: { name: 'proxy:net', include: ON_NET_TRANSPORT, env: { TRESTY_PROXY_TRANSPORT: 'net' } } },
      { extends: true, test: { name: 'tls:node', include: ON_NODE_TLS, env: { TRESTY_TLS_ENGINE: 'node' } } },
    ],
  },
});
