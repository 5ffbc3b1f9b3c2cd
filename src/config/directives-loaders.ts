// Settings of an ffi_plugin block for the Python and Java loaders (native/loaders/):
// `python_path dir ...;` and `class_path dir-or-jar ...;`, relative to the prefix.

import { pathList } from './directives-js.js';
import type { DirectiveRow } from './table.js';

export const loaderDirectives: readonly DirectiveRow[] = [
  {
    name: 'python_path', contexts: ['ffi_plugin'], args: [1, 16],
    apply(d, s, ctx) { s.plugin!.pythonPath = pathList(d.args, ctx); },
  },
  {
    name: 'class_path', contexts: ['ffi_plugin'], args: [1, 16],
    apply(d, s, ctx) { s.plugin!.classPath = pathList(d.args, ctx); },
  },
];
