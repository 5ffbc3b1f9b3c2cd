// Documentation is part of the feature: every directive of the table has its row in the docs
// (docs/directives.md, directives-gateway.md, or gateway.md / ffi.md for theirs); the phase handlers are documented
// once as `<phase>_by_js_block` / `_file`.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { directiveNames } from '../src/config/index.js';
import { ROOT } from './helpers/server.js';

describe('docs', () => {
  it('name every directive tresty knows', () => {
    const docs = ['directives.md', 'directives-gateway.md', 'gateway.md', 'ffi.md'].map((f) => fs.readFileSync(path.join(ROOT, 'docs', f), 'utf8')).join('\n');
    const missing = directiveNames().filter((n) => !docs.includes(`\`${n}`) && !/^[a-z_]+_by_js_(block|file)$/.test(n));
    expect(missing).toEqual([]);
  });
});
