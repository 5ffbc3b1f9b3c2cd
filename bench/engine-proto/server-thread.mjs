// Layout (a), an I/O thread with two rings: node server-thread.mjs PORT
import { createRequire } from 'node:module';
import { answerBatch } from './answer.mjs';
const addon = createRequire(import.meta.url)('./build/thread.node');
const RING = 4 << 20;
const CTL = 64;
const [IN_HEAD, IN_TAIL, OUT_HEAD, OUT_TAIL, JS_SLEEPING, IO_SLEEPING] = [0, 1, 2, 3, 4, 5];
const WRAP = 0xffffffff;
let ctl, inRing, outRing;
const scratch = Buffer.alloc(1 << 20);

function pushOut(n) {
  const size = 8 + n;
  let head = Atomics.load(ctl, OUT_HEAD) >>> 0;
  const tail = Atomics.load(ctl, OUT_TAIL) >>> 0;
  let pos = head & (RING - 1);
  const skip = RING - pos < size ? RING - pos : 0;
  if (((head - tail) >>> 0) + skip + size > RING) throw new Error('out ring full'); // never with 50 connections
  if (skip) { outRing.writeUInt32LE(WRAP, pos); head = (head + skip) >>> 0; pos = 0; }
  outRing.writeUInt32LE(size, pos);
  scratch.copy(outRing, pos + 8, 0, n);
  Atomics.store(ctl, OUT_HEAD, (head + size) | 0);
}

function drain() {
  for (;;) {
    let tail = Atomics.load(ctl, IN_TAIL) >>> 0;
    const head = Atomics.load(ctl, IN_HEAD) >>> 0;
    while (tail !== head) {
      const pos = tail & (RING - 1);
      const size = inRing.readUInt32LE(pos);
      if (size === WRAP) { tail = (tail + RING - pos) >>> 0; continue; }
      const count = inRing.readUInt32LE(pos + 4);
      const r = answerBatch(inRing, count, pos + 8, scratch);
      tail = (tail + size) >>> 0;
      Atomics.store(ctl, IN_TAIL, tail | 0);
      pushOut(r.out);
      if (Atomics.exchange(ctl, IO_SLEEPING, 0) === 1) addon.wake();
    }
    Atomics.store(ctl, JS_SLEEPING, 1);
    if ((Atomics.load(ctl, IN_HEAD) >>> 0) === tail) return;
    Atomics.store(ctl, JS_SLEEPING, 0);
  }
}

const mem = addon.start('127.0.0.1', Number(process.argv[2]), drain);
if (typeof mem === 'number') throw new Error(`listen failed: ${mem}`);
ctl = new Int32Array(mem, 0, 16);
inRing = Buffer.from(mem, CTL, RING);
outRing = Buffer.from(mem, CTL + RING, RING);
console.log('ready');
