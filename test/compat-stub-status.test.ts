// stub_status's page and the $connections_* variables as nginx 1.22 answers them (the same cases
// on the native engine, on node:http and on real nginx): the exact text with its trailing spaces,
// text/plain with a length, the old `stub_status on;` form, 405 for other methods, HEAD.
// test/stub-status.test.ts checks the counts themselves across two workers.
import { compatSuite } from './helpers/compat.js';
import { type Case, phaseSuite } from './helpers/phases-harness.js';

const PAGE = /^Active connections: [1-9]\d* \nserver accepts handled requests\n [1-9]\d* [1-9]\d* [1-9]\d* \nReading: 0 Writing: 1 Waiting: \d+ \n$/;

const cases: Case[] = [
  {
    name: 'the page: nginx\'s text and headers; `stub_status on;` too; HEAD; POST is a 405',
    conf: `location = /st { stub_status; }
    location = /st-on { stub_status on; }`,
    requests: [
      { path: '/st', status: 200, resBody: PAGE, resHeaders: { 'Content-Type': 'text/plain', 'Content-Length': /^9\d$/, 'Last-Modified': undefined } },
      { path: '/st-on', status: 200, resBody: PAGE },
      { path: '/st', method: 'HEAD', status: 200, resBody: '', resHeaders: { 'Content-Type': 'text/plain', 'Content-Length': /^9\d$/ } },
      { path: '/st', method: 'POST', body: 'x', status: 405 },
    ],
  },
  {
    name: '$connections_* in a return text (the request itself is the one writing)',
    conf: 'location = /cv { return 200 "$connections_active $connections_reading $connections_writing $connections_waiting\\n"; }',
    requests: [{ path: '/cv', status: 200, resBody: /^[1-9]\d* 0 1 \d+\n$/ }],
  },
];

compatSuite('stub_status page and variables', {}, cases.map((c) => ({ ...c, lua: c.conf })));
phaseSuite('stub_status page and variables on node:http', { http: 'http_engine node;' }, cases);
