// The first step of an nginx user: a conf written for nginx (Debian's default nginx.conf and a
// tuned production one, with tresty's js handler in place of Lua) starts on bin/tresty.js and
// serves, with every core and tuning directive of it understood.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, runTresty, startTresty, stopAll } from './helpers/server.js';

afterAll(stopAll);

const ROOT_USER = process.getuid?.() === 0;
const GROUP = fs.readFileSync('/etc/group', 'utf8').match(/^(nogroup|nobody):/m)?.[1] ?? 'nogroup';

const conf = (port: number): string => `${ROOT_USER ? `user nobody ${GROUP};` : ''}
worker_processes auto;
worker_rlimit_nofile 8192;
worker_priority 0;
worker_shutdown_timeout 10s;
pid logs/nginx.pid;
pcre_jit on;
timer_resolution 100ms;
thread_pool default threads=4 max_queue=1024;
lock_file logs/nginx.lock;
env TZ;
env APP_MODE=production;
error_log logs/error.log warn;

events {
    worker_connections 768;
    multi_accept on;
    accept_mutex off;
    accept_mutex_delay 500ms;
    use epoll;
}

http {
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    types_hash_max_size 2048;
    types_hash_bucket_size 64;
    server_tokens off;
    server_names_hash_bucket_size 64;
    server_names_hash_max_size 512;
    variables_hash_max_size 1024;
    proxy_headers_hash_max_size 1024;
    open_file_cache max=1000 inactive=20s;
    open_file_cache_valid 30s;
    open_file_cache_min_uses 2;
    open_file_cache_errors on;
    output_buffers 2 32k;
    postpone_output 1460;
    keepalive_disable msie6;
    default_type application/octet-stream;
    access_log logs/access.log;
    log_not_found off;
    msie_padding on;

    server {
        listen 127.0.0.1:${port} default_server;
        server_name app.example;
        root html;
        index index.html;
        absolute_redirect off;
        merge_slashes on;
        location / { aio threads; directio 4m; }
        location = /api { content_by_js_block { ngx.say(process.env.APP_MODE) } }
    }
}
`;

describe('a real nginx.conf', () => {
  it('tresty -t accepts it and tresty serves it', async () => {
    const port = await freePort();
    const files = { 'html/index.html': 'home\n', 'html/docs/index.html': 'docs\n' };
    const t = await startTresty(conf(port), { files });
    // mkdtemp made the prefix 0700: the workers' user (nobody, as root) must reach html/, as on a real server.
    fs.chmodSync(t.prefix, 0o755);
    const test = await runTresty(['-t', '-p', t.prefix, '-c', 'conf/nginx.conf']);
    expect(test.stderr).toContain('test is successful');
    const home = await httpGet(port, '/');
    expect(home.body).toBe('home\n');
    expect(home.headers.server).toBe('tresty');
    expect((await httpGet(port, '/api')).body).toBe('production\n');
    const dir = await httpGet(port, '/docs');
    expect([dir.status, dir.headers.location]).toEqual([301, '/docs/']);
    expect((await httpGet(port, '/missing')).status).toBe(404);
    await new Promise((r) => setTimeout(r, 200));
    expect(t.errorLog()).not.toMatch(/\[(emerg|alert|crit|error)\]/);
    await t.stop();
  }, 60_000);
});
