// Layout (b) with N-API: node server-poll.mjs PORT
import { createRequire } from 'node:module';
import { answerBatch } from './answer.mjs';
const addon = createRequire(import.meta.url)('./build/poll.node');
const inb = Buffer.alloc(1 << 20);
const out = Buffer.alloc(1 << 20);
const rc = addon.start('127.0.0.1', Number(process.argv[2]), inb, out, (count) => answerBatch(inb, count, 0, out).out);
if (rc < 0) throw new Error(`listen failed: ${rc}`);
console.log('ready');
