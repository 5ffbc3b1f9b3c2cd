// The parse tree of an nginx-style conf: directives with string arguments and optional
// blocks, before any meaning is given to them. `include` is already expanded here.

export interface Directive {
  readonly name: string;
  readonly args: readonly string[];
  readonly file: string;
  readonly line: number;
  /** Child directives of a `{ ... }` block. */
  readonly block?: readonly Directive[];
  /** The line of the block's closing `}` (nginx names it in errors found at the block's end). */
  readonly endLine?: number;
  /** The body of a `*_by_js_block { ... }`, kept verbatim, and the line it starts on. */
  readonly raw?: { readonly code: string; readonly line: number };
}

/** Directives whose block holds JavaScript/TypeScript, not directives. */
export function isRawBlockDirective(name: string): boolean {
  return name.endsWith('_by_js_block');
}
