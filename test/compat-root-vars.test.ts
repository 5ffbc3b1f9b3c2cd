// `root` with variables, as nginx 1.22: the value is evaluated for each request (a relative one
// under the prefix), and the file is that root + the URI; $document_root / $realpath_root /
// $request_filename are the evaluated root. Checked on nginx + lua too; on the native engine such
// a location is served through JS.
import { compatSuite } from './helpers/compat.js';
import { phaseSuite, type Case } from './helpers/phases-harness.js';

const FILES = { 'html/a/rv/x.txt': 'A\n', 'html/b/rv/x.txt': 'B\n' };

const conf = (say: string): string => `location /rv/ { root html/$arg_d; }
    location /dr { root html/$arg_d;
      if ($document_root ~ "/html/b$") { return 200 "root b\\n"; }
      ${say} }`;

const cases: Case[] = [
  {
    name: 'root html/$arg_d: the file under the root the request names; none: 404',
    conf: conf('content_by_js_block { ngx.say(ngx.var.request_filename.endsWith("/html/a/dr") ? "file a" : ngx.var.request_filename); }'),
    lua: conf('content_by_lua_block { local f = ngx.var.request_filename ngx.say(f:sub(-10) == "/html/a/dr" and "file a" or f) }'),
    requests: [
      { path: '/rv/x.txt?d=a', status: 200, resBody: 'A\n' },
      { path: '/rv/x.txt?d=b', status: 200, resBody: 'B\n' },
      { path: '/rv/x.txt?d=c', status: 404 },
      { path: '/dr?d=b', status: 200, resBody: 'root b\n' },
      { path: '/dr?d=a', status: 200, resBody: 'file a\n' },
    ],
  },
];

compatSuite('root with variables', { files: FILES }, cases);
phaseSuite('root with variables on node:http', { http: 'http_engine node;', files: FILES }, cases);
