// A prototype's instrument (bench/proxy-proto/run.mjs), never used by tresty itself: loaded with
// `node --import`, it answers tresty's upstream connections to one port from memory, so a run
// measures what the proxy costs in JavaScript with no upstream socket at all. The answer is a
// 1 KB one with the headers nginx sends for a static file.
//   TRESTY_FAKE_UPSTREAM_PORT  the upstream port whose connections are answered here
//   TRESTY_FAKE_UPSTREAM_MODE  `read`: each answer comes in its own callback (setImmediate), as a
//                              socket read does; `batch`: in a microtask of the request's write,
//                              i.e. inside the engine's batch, as an answer handed over in the
//                              engine's records would be.
import { EventEmitter } from 'node:events';
import net from 'node:net';

const port = Number(process.env.TRESTY_FAKE_UPSTREAM_PORT);
const batch = process.env.TRESTY_FAKE_UPSTREAM_MODE === 'batch';
const ANSWER = Buffer.concat([Buffer.from([
  'HTTP/1.1 200 OK', 'Server: nginx/1.22.1', 'Date: Tue, 01 Dec 2026 13:33:34 GMT', 'Content-Type: text/plain',
  'Content-Length: 1024', 'Last-Modified: Tue, 01 Dec 2026 13:16:57 GMT', 'Connection: keep-alive',
  'ETag: "6b0ec8c9-400"', 'Accept-Ranges: bytes', '', '',
].join('\r\n'), 'latin1'), Buffer.alloc(1024, 'x')]);

/** The part of net.Socket tresty's upstream client (src/proxy/conn.ts) uses. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  constructor(onread) {
    super();
    this.onread = onread;
    process.nextTick(() => this.emit('connect'));
  }
  setNoDelay() { return this; }
  setTimeout() { return this; }
  ref() { return this; }
  unref() { return this; }
  pause() { return this; }
  resume() { return this; }
  destroy() {
    if (!this.destroyed) {
      this.destroyed = true;
      process.nextTick(() => this.emit('close'));
    }
    return this;
  }
  write() {
    const answer = () => {
      if (this.destroyed) return;
      const b = this.onread.buffer();
      ANSWER.copy(b);
      this.onread.callback(ANSWER.length, b);
    };
    if (batch) queueMicrotask(answer);
    else setImmediate(answer);
    return true;
  }
}

const connect = net.connect;
net.connect = function fakeConnect(opts, ...rest) {
  if (typeof opts === 'object' && opts !== null && Number(opts.port) === port && opts.onread) return new FakeSocket(opts.onread);
  return connect.call(this, opts, ...rest);
};
