// Bare node:http peer: node server-node-http.mjs PORT
import http from 'node:http';
http.createServer((req, res) => {
  if (req.url === '/hello') {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 12 });
    res.end('hello world\n');
  } else { res.writeHead(404); res.end(); }
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('ready'));
