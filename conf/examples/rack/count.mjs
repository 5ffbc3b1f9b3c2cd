// A streamed request body: the outer middleware counts the bytes as they pass to the inner one,
// which hashes them. Neither holds the body whole, whatever its size.
import { createHash } from 'node:crypto';
import { rack } from 'tresty/rack';

const r = rack.new();

r.use(async (req, next) => {
  let bytes = 0;
  const body = req.stream();
  req.body = (async function* () {
    for await (const chunk of body) {
      bytes += chunk.byteLength;
      yield chunk;
    }
  })();
  const res = await next();
  res.headers['X-Bytes'] = String(bytes);
  return res;
});

r.use(async (req, next) => {
  const hash = createHash('sha256');
  for await (const chunk of req.stream()) hash.update(chunk);
  const res = await next();
  res.body = `sha256 ${hash.digest('hex')}\n`;
  return res;
});

export default r.handler();
