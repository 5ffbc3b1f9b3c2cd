// ngx_http_autoindex_module's directives, random_index and ngx_http_stub_status_module's `stub_status`, with
// nginx 1.22's syntax and messages. Both land in the location's `files` settings (absent when at
// nginx's default), so a location that uses neither keeps its native route.

import { filesOf } from './directives-static.js';
import { confError, type DirectiveRow, onOffRow } from './table.js';

const HSL = ['http', 'server', 'location'] as const;

const FORMATS = new Set(['html', 'xml', 'json', 'jsonp']);

export const autoindexDirectives: readonly DirectiveRow[] = [
  onOffRow('autoindex', HSL, (on, s) => { filesOf(s).autoindex = on ? true : null; }),
  onOffRow('autoindex_exact_size', HSL, (on, s) => { filesOf(s).autoindexRounded = on ? null : true; }),
  // nginx's random_index module: a location's only
  onOffRow('random_index', ['location'], (on, s) => { filesOf(s).randomIndex = on ? true : null; }),
  onOffRow('autoindex_localtime', HSL, (on, s) => { filesOf(s).autoindexLocaltime = on ? true : null; }),
  {
    name: 'autoindex_format', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      // nginx's own text for this one names no directive.
      if (!FORMATS.has(v)) throw confError('TRESTY_ERR_CONF_VALUE', `invalid value "${v}"`, d);
      filesOf(s).autoindexFormat = v === 'html' ? null : v as 'xml' | 'json' | 'jsonp';
    },
  },
  {
    // `stub_status;`, or the old `stub_status on;`: nginx 1.22 ignores the argument (`off` too).
    name: 'stub_status', contexts: ['server', 'location'], args: [0, 1],
    apply(_d, s) {
      filesOf(s).stubStatus = true;
    },
  },
];
