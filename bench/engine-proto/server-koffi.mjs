// Layout (b) through koffi (no N-API addon): node server-koffi.mjs PORT
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import { answerBatch } from './answer.mjs';
const here = path.dirname(fileURLToPath(import.meta.url));
const lib = koffi.load(path.join(here, 'build', 'libkpoll.so'));
const BatchCb = koffi.proto('int batch_cb(int count)');
const start = lib.func('int kp_start(const char *host, int port, _Inout_ uint8_t *in, uint32_t cap, _Inout_ uint8_t *out, batch_cb *cb)');
const inb = Buffer.alloc(1 << 20);
const out = Buffer.alloc(1 << 20);
const cb = koffi.register((count) => answerBatch(inb, count, 0, out).out, koffi.pointer(BatchCb));
// koffi copies _Inout_ buffers around a call; pass raw addresses instead so C keeps pointing at them.
const addr = (b) => koffi.as(b, 'uint8_t *');
const rc = start('127.0.0.1', Number(process.argv[2]), addr(inb), inb.length, addr(out), cb);
if (rc < 0) throw new Error(`listen failed: ${rc}`);
console.log('ready');
