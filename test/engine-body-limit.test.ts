// client_max_body_size before the handler, on both engines: a server whose locations all share
// the server's limit answers from it without a location lookup (src/http/body-limit.ts), one with
// a nested location of its own limit still looks the location up, and two servers of one worker
// keep their own limits (the shortcut is per server).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, startTresty, stopAll } from './helpers/server.js';

afterAll(async () => { await stopAll(); });

const echo = 'content_by_js_block { await ngx.req.read_body(); ngx.say("read ", (ngx.req.get_body_data() ?? "").length); }';
// A handler that never reads the body: a 413 can only be the front's, before it runs.
const unread = 'content_by_js_block { ngx.say("unread"); }';

describe.each(['native', 'node'])('client_max_body_size per server and location (%s engine)', (engine) => {
  let uniform: number;
  let nested: number;
  beforeAll(async () => {
    uniform = await freePort();
    nested = await freePort();
    await startTresty(`
worker_processes 1;
events {}
http {
  ${engine === 'node' ? 'http_engine node;' : ''}
  access_log off;
  server {
    listen 127.0.0.1:${uniform};
    client_max_body_size 10;
    location / { ${echo} }
    location /a/ { location /a/b/ { ${unread} } }
  }
  server {
    listen 127.0.0.1:${nested};
    client_max_body_size 20;
    location / { ${echo} }
    location /outer/ {
      ${echo}
      location /outer/inner/ { client_max_body_size 5; ${unread} }
    }
  }
}
`);
  });

  const post = (port: number, path: string, size: number) => httpGet(port, path, { method: 'POST', body: 'x'.repeat(size) });

  it('a server whose locations share its limit: the limit holds at every depth', async () => {
    expect((await post(uniform, '/', 10)).body).toBe('read 10\n');
    expect((await post(uniform, '/', 11)).status).toBe(413);
    expect((await post(uniform, '/a/b/c', 10)).status).toBe(200);
    expect((await post(uniform, '/a/b/c', 11)).status).toBe(413);
  });

  it('a nested location with its own limit is looked up, the others keep the server\'s', async () => {
    expect((await post(nested, '/outer/inner/x', 5)).body).toBe('unread\n');
    expect((await post(nested, '/outer/inner/x', 6)).status).toBe(413);
    expect((await post(nested, '/outer/inner/x?a=%zz', 6)).status).toBe(413);
    expect((await post(nested, '/outer/%69nner/x', 6)).status).toBe(413); // decoded before the lookup
    expect((await post(nested, '/outer/x', 20)).body).toBe('read 20\n');
    expect((await post(nested, '/outer/x', 21)).status).toBe(413);
    expect((await post(nested, '/', 20)).status).toBe(200);
    // back and forth between the two servers: neither takes the other's limit
    expect((await post(uniform, '/', 11)).status).toBe(413);
    expect((await post(nested, '/', 11)).status).toBe(200);
  });
});
