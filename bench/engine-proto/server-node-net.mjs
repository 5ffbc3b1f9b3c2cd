// Bare node:net peer: a fixed answer per request head seen, no parsing, no objects.
import net from 'node:net';
const ANSWER = Buffer.from('HTTP/1.1 200 OK\r\nServer: x\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world\n');
net.createServer((s) => {
  s.setNoDelay(true);
  s.on('data', (d) => {
    let n = 0;
    for (let i = d.indexOf('\r\n\r\n'); i >= 0; i = d.indexOf('\r\n\r\n', i + 4)) n++;
    if (n === 1) s.write(ANSWER);
    else if (n > 1) s.write(Buffer.concat(Array(n).fill(ANSWER)));
  });
  s.on('error', () => {});
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('ready'));
