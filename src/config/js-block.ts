// Finds the `}` that closes a `*_by_js_block { ... }` body. The body is JS/TS, so braces
// inside strings, template literals, comments and regex literals must not count.

import { ConfError } from '../errors.js';

/** Characters after which a `/` starts a regex literal rather than a division. */
const REGEX_PRECEDERS = new Set('(,=:[!&|?{};+-*%<>~^'.split(''));
const REGEX_KEYWORDS = /(?:^|[^\w$])(?:return|typeof|instanceof|in|of|new|delete|void|throw|case|do|else|yield|await)$/;

/**
 * `start` is the index just after the opening `{`. Returns the index of the matching `}`.
 * Throws a ConfError naming the line where the block opened when it never closes.
 */
export function scanJsBlock(text: string, start: number, file: string, openLine: number): number {
  let depth = 0;
  // Each open template literal remembers the brace depth of its `${`.
  const templates: number[] = [];
  let lastSignificant = '{';
  let i = start;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? n : nl;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) break;
      i = end + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      i = skipQuoted(text, i, c);
      lastSignificant = 'a';
      continue;
    }
    if (c === '`') {
      i = skipTemplate(text, i + 1, templates, depth);
      lastSignificant = 'a';
      continue;
    }
    if (c === '/' && startsRegex(text, i, lastSignificant)) {
      i = skipRegex(text, i);
      lastSignificant = 'a';
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      if (templates.length > 0 && templates[templates.length - 1] === depth) {
        // The `}` that ends a `${ ... }` inside a template literal: resume the template.
        templates.pop();
        i = skipTemplate(text, i + 1, templates, depth);
        lastSignificant = 'a';
        continue;
      }
      if (depth === 0) return i;
      depth--;
    }
    if (!/\s/.test(c)) lastSignificant = c;
    i++;
  }
  throw new ConfError('TRESTY_ERR_CONF_SYNTAX', 'unexpected end of file, expecting "}" to close the JS block opened', file, openLine);
}

function skipQuoted(text: string, i: number, quote: string): number {
  i++;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') { i += 2; continue; }
    if (c === quote || c === '\n') return i + 1;
    i++;
  }
  return i;
}

/** Skips template text up to and past its closing backtick, or into a `${` (pushed on `templates`). */
function skipTemplate(text: string, i: number, templates: number[], depth: number): number {
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') { i += 2; continue; }
    if (c === '`') return i + 1;
    if (c === '$' && text[i + 1] === '{') {
      templates.push(depth);
      return i + 2;
    }
    i++;
  }
  return i;
}

function startsRegex(text: string, i: number, lastSignificant: string): boolean {
  if (REGEX_PRECEDERS.has(lastSignificant)) return true;
  if (/[\w$]/.test(lastSignificant)) {
    return REGEX_KEYWORDS.test(text.slice(Math.max(0, i - 12), i).trimEnd());
  }
  return false;
}

function skipRegex(text: string, i: number): number {
  let inClass = false;
  i++;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') { i += 2; continue; }
    if (c === '\n') return i;
    if (inClass) { if (c === ']') inClass = false; }
    else if (c === '[') inClass = true;
    else if (c === '/') { i++; break; }
    i++;
  }
  while (i < text.length && /[a-z]/i.test(text[i])) i++;
  return i;
}
