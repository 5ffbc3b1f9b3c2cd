// The JS half every prototype shares: decode a batch of request records, run a handler that
// builds its answer in JS (so the hand-off to JS is really exercised), write answer records.
// Records in: u32 fd, u16 method len, u16 url len, method, url (padded to 4).
// Records out: u32 fd, u32 len, bytes (padded to 4).

let date = '';
let dateSec = 0;
function httpDate() {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSec) { dateSec = s; date = new Date(now).toUTCString(); }
  return date;
}

function handler(method, url) {
  if (url === '/hello') return 'hello world\n';
  return null;
}

export function answerBatch(inb, count, start, out) {
  let p = start;
  let o = 0;
  for (let i = 0; i < count; i++) {
    const fd = inb.readUInt32LE(p);
    const ml = inb.readUInt16LE(p + 4);
    const ul = inb.readUInt16LE(p + 6);
    const method = inb.latin1Slice(p + 8, p + 8 + ml);
    const url = inb.latin1Slice(p + 8 + ml, p + 8 + ml + ul);
    p += (8 + ml + ul + 3) & ~3;
    const body = handler(method, url);
    const status = body === null ? '404 Not Found' : '200 OK';
    const text = body ?? 'not found\n';
    const head = `HTTP/1.1 ${status}\r\nServer: tresty\r\nDate: ${httpDate()}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: keep-alive\r\n\r\n`;
    out.writeUInt32LE(fd, o);
    let n = out.latin1Write(head, o + 8);
    n += out.utf8Write(text, o + 8 + n);
    out.writeUInt32LE(n, o + 4);
    o += (8 + n + 3) & ~3;
  }
  return { end: p, out: o };
}
