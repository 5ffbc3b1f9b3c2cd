// tresty/websocket: websockets over ngx.req.socket(true), in the shape of lua-resty-websocket's
// resty.websocket.server:
//
//   import { server } from 'tresty/websocket';
//   export default async (ngx) => {
//     const [wb, err] = await server.new(ngx, { timeout: 5000, max_payload_len: 65535 });
//     if (!wb) { ngx.log(ngx.ERR, 'failed to new websocket: ', err); return ngx.exit(400); }
//     for (;;) {
//       const [data, typ, e] = await wb.recv_frame();
//       if (data === null) break;                       // e: why (a timeout, the client gone)
//       if (typ === 'close') { await wb.send_close(1000, 'bye'); break; }
//       if (typ === 'ping') await wb.send_pong(data);
//       else if (typ === 'text') await wb.send_text(data);
//     }
//   };
export { server, WebSocketServer, type NgxForWebsocket, type ServerOptions } from './server.js';
export { buildFrame, readFrame, OP, type FrameResult, type FrameType } from './frame.js';
