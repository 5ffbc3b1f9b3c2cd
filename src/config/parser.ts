// nginx conf syntax → a tree of directives. Handles comments, quotes and escapes,
// `${var}` inside words, nested blocks, verbatim JS blocks and `include` (with globs).

import path from 'node:path';
import { ConfError } from '../errors.js';
import { type Directive, isRawBlockDirective } from './ast.js';
import { scanJsBlock } from './js-block.js';
import { scanLuaBlock } from './lua-block.js';
import { type ConfSource, hasGlobMagic } from './source.js';

interface Token {
  readonly value: string;
  readonly line: number;
  /** `;`, `{` or `}` as syntax (a quoted "{" is a word). */
  readonly special: boolean;
}

export interface ParseOptions {
  readonly source: ConfSource;
  /** Folder that relative `include` paths start from (the main conf file's folder, as nginx). */
  readonly confDir: string;
}

/** Parses a whole conf file; the file's own open error names the including directive. */
export function parseFile(file: string, opts: ParseOptions, from?: { file: string; line: number }): Directive[] {
  let text: string;
  try {
    text = opts.source.read(file);
  } catch (e) {
    const msg = (e as Error).message;
    if (from) throw new ConfError('TRESTY_ERR_CONF_OPEN', msg, from.file, from.line);
    throw Object.assign(new Error(msg), { code: 'TRESTY_ERR_CONF_OPEN' });
  }
  return parseText(text, file, opts);
}

export function parseText(text: string, file: string, opts: ParseOptions): Directive[] {
  const p = new Parser(text, file, opts);
  return p.parseBlock(false);
}

class Parser {
  private pos = 0;
  private line = 1;

  constructor(private readonly text: string, private readonly file: string, private readonly opts: ParseOptions) {}

  private fail(message: string, line = this.line): never {
    throw new ConfError('TRESTY_ERR_CONF_SYNTAX', message, this.file, line);
  }

  /** The line of the last `}` read (a block's end). */
  private closeLine = 0;

  parseBlock(inBlock: boolean): Directive[] {
    const out: Directive[] = [];
    for (;;) {
      const first = this.next();
      if (first === null) {
        if (inBlock) this.fail('unexpected end of file, expecting "}"');
        return out;
      }
      if (first.special) {
        if (first.value === '}') {
          if (!inBlock) this.fail('unexpected "}"', first.line);
          this.closeLine = first.line;
          return out;
        }
        this.fail(`unexpected "${first.value}"`, first.line);
      }
      const name = first.value;
      const args: string[] = [];
      for (;;) {
        const t = this.next();
        if (t === null) this.fail('unexpected end of file, expecting ";" or "}"');
        if (!t.special) { args.push(t.value); continue; }
        if (t.value === ';') {
          if (name === 'include') out.push(...this.include(args, first.line));
          else out.push({ name, args, file: this.file, line: first.line });
          break;
        }
        if (t.value === '{') {
          if (name.endsWith('_by_lua_block')) {
            // Kept as a raw block so the resolver names the tresty equivalent (lua-hints.ts).
            const close = scanLuaBlock(this.text, this.pos);
            if (close < 0) this.fail('unexpected end of file, expecting "}"');
            this.advanceTo(close + 1);
            out.push({ name, args, file: this.file, line: first.line, raw: { code: '', line: t.line } });
          } else if (isRawBlockDirective(name)) {
            const close = scanJsBlock(this.text, this.pos, this.file, t.line);
            const code = this.text.slice(this.pos, close);
            this.advanceTo(close + 1);
            out.push({ name, args, file: this.file, line: first.line, raw: { code, line: t.line } });
          } else {
            const block = this.parseBlock(true);
            out.push({ name, args, file: this.file, line: first.line, block, endLine: this.closeLine });
          }
          break;
        }
        // '}' right after arguments: the directive was never terminated.
        this.fail(`unexpected "}"`, t.line);
      }
    }
  }

  private include(args: string[], line: number): Directive[] {
    if (args.length !== 1) {
      throw new ConfError('TRESTY_ERR_CONF_ARGS', 'invalid number of arguments in "include" directive', this.file, line);
    }
    const target = path.resolve(this.opts.confDir, args[0]);
    const from = { file: this.file, line };
    if (!hasGlobMagic(args[0])) return parseFile(target, this.opts, from);
    const out: Directive[] = [];
    for (const f of this.opts.source.glob(target)) out.push(...parseFile(f, this.opts, from));
    return out;
  }

  private advanceTo(pos: number): void {
    for (let i = this.pos; i < pos; i++) if (this.text.charCodeAt(i) === 10) this.line++;
    this.pos = pos;
  }

  /** The next token, or null at end of text. */
  private next(): Token | null {
    const t = this.text;
    // Skip white space and comments.
    for (;;) {
      while (this.pos < t.length && /\s/.test(t[this.pos])) {
        if (t[this.pos] === '\n') this.line++;
        this.pos++;
      }
      if (t[this.pos] === '#') {
        while (this.pos < t.length && t[this.pos] !== '\n') this.pos++;
        continue;
      }
      break;
    }
    if (this.pos >= t.length) return null;
    const line = this.line;
    const c = t[this.pos];
    if (c === ';' || c === '{' || c === '}') {
      this.pos++;
      return { value: c, line, special: true };
    }
    if (c === '"' || c === "'") return { value: this.quoted(c), line, special: false };
    return { value: this.word(), line, special: false };
  }

  private quoted(q: string): string {
    const t = this.text;
    const startLine = this.line;
    let out = '';
    this.pos++;
    for (;;) {
      if (this.pos >= t.length) this.fail('unexpected end of file, expecting terminating quote', startLine);
      const c = t[this.pos];
      if (c === '\\' && this.pos + 1 < t.length) {
        out += unescape(t[this.pos + 1]);
        this.pos += 2;
        continue;
      }
      if (c === q) { this.pos++; break; }
      if (c === '\n') this.line++;
      out += c;
      this.pos++;
    }
    const after = t[this.pos];
    // `)` may close an `if (...)` condition right after a quoted word, as nginx allows.
    if (after !== undefined && !/[\s;{})]/.test(after)) this.fail(`unexpected "${after}"`);
    return out;
  }

  private word(): string {
    const t = this.text;
    let out = '';
    while (this.pos < t.length) {
      const c = t[this.pos];
      if (/\s/.test(c) || c === ';' || c === '}') break;
      if (c === '{') {
        // `${name}` is a variable, not a block.
        if (t[this.pos - 1] !== '$') break;
        const end = t.indexOf('}', this.pos);
        if (end < 0) this.fail('the closing bracket in variable is missing');
        out += t.slice(this.pos, end + 1);
        this.pos = end + 1;
        continue;
      }
      if (c === '\\' && this.pos + 1 < t.length) {
        out += unescape(t[this.pos + 1]);
        this.pos += 2;
        continue;
      }
      out += c;
      this.pos++;
    }
    return out;
  }
}

/** nginx translates these escapes; any other `\x` keeps its backslash (regexes need it). */
function unescape(c: string): string {
  switch (c) {
    case '"': return '"';
    case "'": return "'";
    case '\\': return '\\';
    case 't': return '\t';
    case 'r': return '\r';
    case 'n': return '\n';
    default: return '\\' + c;
  }
}
