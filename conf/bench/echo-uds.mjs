// /echo through the UDS echo server, the way a user would write it: one persistent, pipelined
// connection per worker (module state is per worker), opened on first use, with the same
// `string` serialization as the FFI plugin on /echo-ffi. The socket path comes from the conf.
import { connectUds } from '../../bench/lib/uds-client.mjs';

let client = null;

async function connection(socketPath) {
  if (!client) {
    client = connectUds(socketPath, { codec: 'string' });
    client.catch(() => { client = null; }); // the next request retries
  }
  const c = await client;
  if (c.closed) client = null;
  return c;
}

export default async function echoUds(ngx) {
  await ngx.req.read_body();
  const c = await connection(ngx.var.uds_socket);
  ngx.print(await c.call(ngx.req.get_body_data() ?? ''));
}
