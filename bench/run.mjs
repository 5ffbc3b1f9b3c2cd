#!/usr/bin/env node
// `npm run bench`: the three benchmarks of issue 5 in one command, each also runnable alone
// (bench/ffi-vs-uds.mjs, bench/http.mjs, bench/ring.mjs). Options: --help.
import { benchArgs } from './lib/args.mjs';
import { commandLine, runSuite } from './lib/suite.mjs';
import { ffiBench } from './ffi-vs-uds.mjs';
import { httpBench } from './http.mjs';
import { ringBench } from './lib/ring-runner.mjs';
import { pythonBench } from './ffi-python.mjs';
import { proxyBench } from './proxy.mjs';
import { tlsBench } from './tls.mjs';

const opts = benchArgs();
const benches = { ffi: ffiBench, http: httpBench, ring: ringBench, python: pythonBench, proxy: proxyBench, tls: tlsBench };
process.exitCode = await runSuite(opts.only, opts, benches, commandLine('run'));
