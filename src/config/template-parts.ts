// Conf strings with `$name`, `${name}`, `$1`: split once at load into text and variable names.
// Shared by the rewrite module's templates (phases/template.ts) and the access modules' values.

import type { TemplatePart, TemplateParts } from './types-access.js';

/** `$1`..`$9` are one digit (regex captures: `$12` is capture 1 then "2"), as in nginx. */
export function templateParts(text: string): TemplateParts {
  const parts: TemplatePart[] = [];
  const re = /\$(?:\{([A-Za-z0-9_]+)\}|([0-9])|([A-Za-z_][A-Za-z0-9_]*))/g;
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    // nginx lowercases a variable's name: `$HOST` is `$host`.
    parts.push({ name: (m[1] ?? m[2] ?? m[3]).toLowerCase() });
    last = re.lastIndex;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}
