// PCRE pattern syntax (what OpenResty's ngx.re and nginx's conf compile) translated to an equivalent JavaScript
// RegExp source, once per regex + options (re.ts caches the result). What has a JS equivalent is
// rewritten: PCRE's `^ $ .` semantics (no `\r`/U+2028 as newlines, `$` before a final `\n`),
// \A \z \Z \h \v \R \Q..\E \x{..} \e, POSIX classes, (?P<n>..) and (?P=n), leading (?imsx),
// (?msx) anywhere (to the end of their group), `x` whitespace/comments, atomic groups and possessive quantifiers (as `(?=(X))\N`, with the
// extra group hidden from the captures). What has none throws, re.ts turns it into OpenResty's
// compile error.

export interface Translated {
  source: string;
  /** JS flags that come from the pattern itself (a leading `(?i)`). */
  flags: string;
  /** PCRE group number -> JS group index ([0] = 0). */
  groups: number[];
}

export class Unsupported extends Error {}

interface Mode { i: boolean; m: boolean; s: boolean; x: boolean; u: boolean }

const SYNTAX = new Set('^$\\.*+?()[]{}|/');
const POSIX: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: '\\t-\\r ',
  blank: '\\t ', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', word: '\\w', cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~', graph: '!-~', ascii: '\\x00-\\x7f',
};
const H = '\\t \\xa0';
const V = '\\n-\\r\\x85';
const S = '\\t-\\r ';
// JS's ^ and $ without its m flag (never given: re.ts) are the subject's start and end, and
// keep V8's anchored fast path; PCRE repeats no assertion, so none needs a group around it.
const START = '^';
const END = '$';
// Markers placed while scanning, resolved once every group is numbered.
const OPEN = '\uE002';
const REF = '\uE000';
const CLOSE = '\uE001';

// A pattern's own marker chars are written escaped, so resolve() sees only the scanner's.
const MARKER = /[\uE000-\uE002]/;
function lit(c: string): string { return SYNTAX.has(c) ? `\\${c}` : MARKER.test(c) ? hex(c.charCodeAt(0), false) : c; }
// `-` stays as written (ranges); a quoted one (\Q-\E) is escaped by quoted().
function litInClass(c: string): string { return '\\]^['.includes(c) ? `\\${c}` : MARKER.test(c) ? hex(c.charCodeAt(0), false) : c; }
function hex(n: number, u: boolean): string {
  if (n <= 0xff) return `\\x${n.toString(16).padStart(2, '0')}`;
  if (n <= 0xffff) return `\\u${n.toString(16).padStart(4, '0')}`;
  if (u) return `\\u{${n.toString(16)}}`;
  throw new Unsupported('character value in \\x{} or \\o{} is too large');
}

export function translate(pattern: string, opts: string): Translated {
  const mode: Mode = { i: opts.includes('i'), m: opts.includes('m'), s: opts.includes('s'), x: opts.includes('x'), u: /[uU]/.test(opts) };
  let p = 0;
  // Leading (?imsx) settings apply to the whole pattern: they become options.
  for (let m = /^\(\?([imsx]+)\)/.exec(pattern); m; m = /^\(\?([imsx]+)\)/.exec(pattern.slice(p))) {
    for (const f of m[1]!) mode[f as 'i' | 'm' | 's' | 'x'] = true;
    p += m[0].length;
  }
  let out = '';
  let atom = -1; // where the last quantifiable atom starts in `out`
  let pcreGroups = 0;
  let hidden = 0;
  // Each open group, with the settings to restore when it closes ((?s) lasts to its group's end).
  const stack: Array<{ at: number; close: string; mode: Mode }> = [];

  const escape = (inClass: boolean): string => {
    const c = pattern[p++];
    if (c === undefined) throw new Unsupported('\\ at end of pattern');
    switch (c) {
      case 'h': return inClass ? H : `[${H}]`;
      case 'v': return inClass ? V : `[${V}]`;
      case 's': return inClass ? S : `[${S}]`;
      case 'S': return inClass ? '\\S' : `[^${S}]`;
      case 'H': case 'V':
        if (inClass) throw new Unsupported(`\\${c} in a character class`);
        return `[^${c === 'H' ? H : V}]`;
      case 'e': return '\\x1b';
      case 'a': return '\\x07';
      case 'x': {
        if (pattern[p] === '{') {
          const e = pattern.indexOf('}', p);
          const n = parseInt(pattern.slice(p + 1, e), 16);
          if (e < 0 || !/^[0-9a-fA-F]+$/.test(pattern.slice(p + 1, e))) throw new Unsupported('invalid \\x{}');
          p = e + 1;
          return hex(n, mode.u);
        }
        const m = /^[0-9a-fA-F]{0,2}/.exec(pattern.slice(p))![0];
        p += m.length;
        return hex(m ? parseInt(m, 16) : 0, mode.u);
      }
      case '0': {
        const m = /^[0-7]{0,2}/.exec(pattern.slice(p))![0];
        p += m.length;
        return hex(parseInt(`0${m}`, 8), mode.u);
      }
      case 'b': case 'B': return inClass ? (c === 'b' ? '\\x08' : 'B') : `\\${c}`;
      case 'd': case 'D': case 'w': case 'W': case 'n': case 'r': case 't': case 'f': return `\\${c}`;
      case 'c': return `\\c${pattern[p++] ?? ''}`;
      case 'p': case 'P':
        if (!mode.u) throw new Unsupported(`\\${c} without the u option`);
        { const m = /^\{[^}]*\}|^./.exec(pattern.slice(p))![0]; p += m.length; return `\\${c}${m}`; }
    }
    if (inClass) {
      if (/[1-7]/.test(c)) { const m = /^[0-7]{0,2}/.exec(pattern.slice(p))![0]; p += m.length; return hex(parseInt(c + m, 8), mode.u); }
      return /[a-zA-Z0-9]/.test(c) ? c : c === '-' ? '\\-' : litInClass(c);
    }
    if (/[1-9]/.test(c)) {
      // PCRE: \1-\9 and any number up to the groups opened so far are references, else octal.
      const digits = c + /^[0-9]*/.exec(pattern.slice(p))![0];
      if (Number(digits) < 10 || Number(digits) <= pcreGroups) { p += digits.length - 1; return `${REF}${Number(digits)}${CLOSE}`; }
      const oct = /^[0-7]{1,3}/.exec(digits)?.[0];
      if (!oct) return c;
      p += oct.length - 1;
      return hex(parseInt(oct, 8), mode.u);
    }
    if (c === 'A') return START;
    if (c === 'z') return END;
    if (c === 'Z') return `(?=\\n?${END})`;
    if (c === 'R') return `(?:\\r\\n|[${V}])`;
    if (c === 'g' || c === 'k') {
      const m = /^\{(-?\d+|\w+)\}|^<(\w+)>|^'(\w+)'|^(-?\d+)/.exec(pattern.slice(p));
      if (!m) throw new Unsupported(`\\${c} is not followed by a group`);
      p += m[0].length;
      const ref = m[1] ?? m[2] ?? m[3] ?? m[4]!;
      if (/^-\d+$/.test(ref)) return `${REF}${pcreGroups + 1 + Number(ref)}${CLOSE}`;
      return /^\d+$/.test(ref) ? `${REF}${ref}${CLOSE}` : `${REF}=${ref}${CLOSE}`;
    }
    if (c === 'G' || c === 'K' || c === 'C' || c === 'X') throw new Unsupported(`\\${c}`);
    return /[a-zA-Z0-9]/.test(c) ? c : lit(c);
  };

  const quoted = (inClass: boolean): string[] => {
    const e = pattern.indexOf('\\E', p);
    const text = pattern.slice(p, e < 0 ? pattern.length : e);
    p = e < 0 ? pattern.length : e + 2;
    return [...text].map(inClass ? (c) => (c === '-' ? '\\-' : litInClass(c)) : lit);
  };

  const klass = (): string => {
    let s = '[';
    if (pattern[p] === '^') { s += '^'; p++; }
    if (pattern[p] === ']') { s += '\\]'; p++; }
    for (;;) {
      const c = pattern[p];
      if (c === undefined) throw new Unsupported('missing terminating ] for character class');
      if (c === ']') { p++; return `${s}]`; }
      if (c === '[') {
        const m = /^\[:(\^?)(\w+):\]/.exec(pattern.slice(p));
        if (m) {
          const r = POSIX[m[2]!];
          if (!r) throw new Unsupported('unknown POSIX class name');
          if (m[1]) throw new Unsupported('a negated POSIX class');
          s += r;
          p += m[0].length;
          continue;
        }
      }
      p++;
      if (c === '\\') {
        if (pattern[p] === 'Q') { p++; s += quoted(true).join(''); continue; }
        if (pattern[p] === 'E') { p++; continue; }
        s += escape(true);
      } else s += litInClass(c);
    }
  };

  const group = (): void => {
    // p is just past "(".
    const rest = pattern.slice(p);
    let m: RegExpExecArray | null;
    if (rest.startsWith('?#')) {
      const e = pattern.indexOf(')', p);
      if (e < 0) throw new Unsupported('missing ) after comment');
      p = e + 1; // a comment is transparent: a quantifier after it repeats the atom before it
      return;
    }
    atom = -1;
    if ((m = /^\?(?:P?<(\w+)>|'(\w+)')/.exec(rest)) && !/^\?<[=!]/.test(rest)) {
      p += m[0].length;
      stack.push({ at: out.length, close: ')', mode: { ...mode } });
      out += `${OPEN}${++pcreGroups}:${m[1] ?? m[2]}${CLOSE}`;
    } else if ((m = /^\?P=(\w+)\)/.exec(rest))) {
      p += m[0].length;
      atom = out.length;
      out += `${REF}=${m[1]}${CLOSE}`;
    } else if (rest.startsWith('?>')) {
      p += 2;
      const h = `h${++hidden}`;
      stack.push({ at: out.length, close: `))${REF}${h}${CLOSE})`, mode: { ...mode } });
      out += `(?:(?=${OPEN}${h}${CLOSE}`;
    } else if ((m = /^\?(?::|=|!|<=|<!)/.exec(rest))) {
      p += m[0].length;
      stack.push({ at: out.length, close: ')', mode: { ...mode } });
      out += `(${m[0]}`;
    } else if ((m = /^\?([imsx]*)(?:-([imsx]*))?([:)])/.exec(rest)) && m[0] !== '?)') {
      // Inline settings: m s x are the translation's own; i is the RegExp's (one for the whole
      // pattern), so only a setting of i that changes nothing has a JS equivalent.
      const set = (f: string, v: boolean): void => {
        if (f === 'i' && mode.i !== v) throw new Unsupported(`inline option setting (?${m![1]}${m![2] ? `-${m![2]}` : ''}) of i inside the pattern`);
        mode[f as keyof Mode] = v;
      };
      p += m[0].length;
      if (m[3] === ':') { stack.push({ at: out.length, close: ')', mode: { ...mode } }); out += '(?:'; }
      for (const f of m[1]!) set(f, true);
      for (const f of m[2] ?? '') set(f, false);
    } else if (rest.startsWith('?') || rest.startsWith('*')) {
      throw new Unsupported(`group syntax (${rest.slice(0, 3)}`);
    } else {
      stack.push({ at: out.length, close: ')', mode: { ...mode } });
      out += `${OPEN}${++pcreGroups}${CLOSE}`;
    }
  };

  while (p < pattern.length) {
    const c = pattern[p]!;
    if (mode.x && /\s/.test(c)) { p++; continue; }
    if (mode.x && c === '#') { const e = pattern.indexOf('\n', p); p = e < 0 ? pattern.length : e + 1; continue; }
    const q = /^(?:[*+?]|\{\d+(?:,\d*)?\})/.exec(pattern.slice(p));
    if (q) {
      p += q[0].length;
      if (atom < 0) throw new Unsupported('nothing to repeat');
      let quant = q[0];
      const lazy = pattern[p] === '?';
      if (lazy) { quant += '?'; p++; }
      if (pattern[p] === '+' && !lazy) {
        // Possessive: an atomic group around the quantified atom.
        p++;
        const h = `h${++hidden}`;
        out = `${out.slice(0, atom)}(?:(?=${OPEN}${h}${CLOSE}${out.slice(atom)}${quant}))${REF}${h}${CLOSE})`;
      } else out += quant;
      atom = -1;
      continue;
    }
    p++;
    if (c === '(') { group(); continue; }
    if (c === ')') {
      const g = stack.pop();
      if (!g) throw new Unsupported('unmatched parentheses');
      out += g.close;
      Object.assign(mode, g.mode);
      atom = g.at;
      continue;
    }
    if (c === '|') { out += '|'; atom = -1; continue; }
    if (c === '\\' && pattern[p] === 'Q') {
      p++;
      for (const l of quoted(false)) { atom = out.length; out += l; }
      continue;
    }
    if (c === '\\' && pattern[p] === 'E') { p++; continue; }
    const at = out.length;
    const esc = c === '\\' ? pattern[p] ?? '' : '';
    if (c === '\\') out += escape(false);
    else if (c === '[') out += klass();
    else if (c === '.') out += mode.s ? '[\\s\\S]' : '[^\\n]';
    else if (c === '^') out += mode.m ? `(?:${START}|(?<=\\n)(?=[\\s\\S]))` : START;
    else if (c === '$') out += mode.m ? `(?=\\n|${END})` : `(?=\\n?${END})`;
    else out += lit(c);
    // PCRE repeats no assertion ("nothing to repeat").
    atom = c === '^' || c === '$' || (esc !== '' && 'AzZbB'.includes(esc)) ? -1 : at;
  }
  if (stack.length > 0) throw new Unsupported('missing )');
  return resolve(out, pcreGroups, mode.i ? 'i' : '');
}

/** Numbers the groups in the order JS will (their opening order) and writes the opens and refs. */
function resolve(src: string, pcreGroups: number, flags: string): Translated {
  const index = new Map<string, number>();
  const groups = [0];
  let n = 0;
  const opened = src.replace(new RegExp(`${OPEN}([^${CLOSE}]*)${CLOSE}`, 'g'), (_, id: string) => {
    const [key, name] = id.split(':');
    index.set(key!, ++n);
    if (name) index.set(`=${name}`, n);
    if (!key!.startsWith('h')) groups[Number(key)] = n;
    return name ? `(?<${name}>` : '(';
  });
  const source = opened.replace(new RegExp(`${REF}([^${CLOSE}]*)${CLOSE}`, 'g'), (_, key: string) => {
    const i = index.get(key);
    if (i === undefined) throw new Unsupported(`reference to non-existent subpattern`);
    return `(?:\\${i})`;
  });
  for (let g = 1; g <= pcreGroups; g++) if (groups[g] === undefined) throw new Unsupported('group numbering');
  return { source, flags, groups };
}
