// The seed's rack example for tresty: one rack built when the module loads, used by every
// request of this worker; `ngx` comes with each request.
import { rack } from 'tresty/rack';

const r = rack.new();

r.use(async (req, next) => {
  req.headers['Secret'] = '1234'; // the request, before the inner middlewares see it
  const res = await next();
  res.status = 200; // the response, after they made it
  return res;
});

r.use(async (req, next) => {
  const res = await next(); // the default response: no status, no headers, empty body
  res.headers['Content-Type'] = 'text/plain';
  res.body = `secret is ${req.headers.secret}\n`;
  return res;
});

export default async (ngx) => r.respond(await r.execute(ngx));
