// nginx 1.22's other HTTP/2 directives, so that an OpenResty conf that sets them loads as it does
// on nginx (they used to be tresty's "unknown directive"):
// - obsolete since nginx 1.19.7 (http2_idle_timeout ...): nginx warns with the directive that
//   replaced it and ignores them; so does tresty;
// - buffer and index sizes of nginx's own HTTP/2 code (http2_chunk_size, http2_recv_buffer_size,
//   http2_streams_index_size): checked as nginx checks them; node's http2 frames and buffers
//   itself, so they change nothing here (docs/directives.md);
// - server push (http2_push, http2_push_preload, http2_max_concurrent_pushes): tresty does not
//   push; a push asked for is ignored with nginx 1.25.1's warning (nginx removed push there).

import { confError, confWarning, type DirectiveRow, flagError } from './table.js';
import { parseSize } from './values.js';

const HS = ['http', 'server'] as const;
const HSL = ['http', 'server', 'location'] as const;

const OBSOLETE: ReadonlyArray<readonly [string, string]> = [
  ['http2_idle_timeout', 'keepalive_timeout'],
  ['http2_max_requests', 'keepalive_requests'],
  ['http2_recv_timeout', 'client_header_timeout'],
  ['http2_max_field_size', 'large_client_header_buffers'],
  ['http2_max_header_size', 'large_client_header_buffers'],
];

const obsolete: DirectiveRow[] = OBSOLETE.map(([name, instead]) => ({
  name, contexts: HS, args: [1, 1], multiple: true,
  apply(d, s) {
    confWarning(s.main, `the "${name}" directive is obsolete, use the "${instead}" directive instead`, d);
  },
}));

/** nginx's `ngx_conf_check_num_bounds`-free number: digits only. */
const isNumber = (v: string): boolean => /^\d+$/.test(v);

export const http2CompatDirectives: readonly DirectiveRow[] = [
  ...obsolete,
  {
    name: 'http2_chunk_size', contexts: HSL, args: [1, 1],
    apply(d) {
      const v = parseSize(d.args[0]);
      if (v === null) throw confError('TRESTY_ERR_CONF_VALUE', '"http2_chunk_size" directive invalid value', d);
      if (v === 0) throw confError('TRESTY_ERR_CONF_VALUE', 'the http2 chunk size cannot be zero', d);
    },
  },
  {
    name: 'http2_recv_buffer_size', contexts: ['http'], args: [1, 1],
    apply(d) {
      const v = parseSize(d.args[0]);
      if (v === null) throw confError('TRESTY_ERR_CONF_VALUE', '"http2_recv_buffer_size" directive invalid value', d);
      // nginx: at least twice its state buffer (16 bytes)
      if (v <= 32) throw confError('TRESTY_ERR_CONF_VALUE', '"http2_recv_buffer_size" directive value is too small', d);
    },
  },
  {
    name: 'http2_streams_index_size', contexts: HS, args: [1, 1],
    apply(d) {
      const v = d.args[0];
      if (!isNumber(v)) throw confError('TRESTY_ERR_CONF_VALUE', '"http2_streams_index_size" directive invalid number', d);
      const n = Number(v);
      if (n === 0 || (n & (n - 1)) !== 0) throw confError('TRESTY_ERR_CONF_VALUE', '"http2_streams_index_size" directive must be a power of two', d);
    },
  },
  {
    name: 'http2_max_concurrent_pushes', contexts: HS, args: [1, 1],
    apply(d) {
      if (!isNumber(d.args[0])) throw confError('TRESTY_ERR_CONF_VALUE', '"http2_max_concurrent_pushes" directive invalid number', d);
    },
  },
  {
    name: 'http2_push_preload', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v !== 'on' && v !== 'off') throw flagError(d);
      if (v === 'on') confWarning(s.main, 'the "http2_push_preload" directive is obsolete, ignored', d);
    },
  },
  {
    // `off`, or a URI to push (nginx takes several lines).
    name: 'http2_push', contexts: HSL, args: [1, 1], multiple: true,
    apply(d, s) {
      if (d.args[0] !== 'off') confWarning(s.main, 'the "http2_push" directive is obsolete, ignored', d);
    },
  },
];
