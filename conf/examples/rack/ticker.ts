// A streamed response: the inner middleware produces lines over time, the outer one upper-cases
// each chunk as it passes (no buffering); each chunk leaves the worker before the next is made.
import { rack, type Middleware, type RackBody } from 'tresty/rack';

async function* upper(body: RackBody): AsyncIterable<string> {
  for await (const c of rack.chunks(body)) yield (typeof c === 'string' ? c : Buffer.from(c).toString()).toUpperCase();
}

const shout: Middleware = async (req, next) => {
  const res = await next();
  res.body = upper(res.body);
  return res;
};

const ticker: Middleware = async (req, next) => {
  const res = await next();
  const n = Number(req.args.n ?? 5);
  res.headers['Content-Type'] = 'text/plain';
  res.body = (async function* () {
    for (let i = 1; i <= n; i++) {
      yield `tick ${i} of ${n}\n`;
      await req.ngx.sleep(0.2); // the worker serves other requests meanwhile
    }
  })();
  return res;
};

const r = rack.new().use(shout).use(ticker);
export default r.handler();
