// The body of an OpenResty `*_by_lua_block { ... }` is Lua, not conf syntax. tresty does not run
// it, but must find its closing brace to report the directive by name (lua-hints.ts) instead of
// failing on the first Lua line. Lua's strings, comments and long brackets may hold braces.

/** The index of the `}` closing a block whose body starts at `start`, or -1 at end of text. */
export function scanLuaBlock(text: string, start: number): number {
  let depth = 1;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      for (i++; i < text.length && text[i] !== c && text[i] !== '\n'; i++) if (text[i] === '\\') i++;
    } else if (c === '-' && text[i + 1] === '-') {
      const long = /^\[(=*)\[/.exec(text.slice(i + 2, i + 40));
      if (long) i = closeLong(text, i + 2 + long[0].length, long[1]);
      else while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '[' && /^\[=*\[/.test(text.slice(i, i + 40))) {
      const eq = /^\[(=*)\[/.exec(text.slice(i, i + 40))![1];
      i = closeLong(text, i + eq.length + 2, eq);
    } else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

function closeLong(text: string, from: number, eq: string): number {
  const end = text.indexOf(`]${eq}]`, from);
  return end < 0 ? text.length : end + eq.length + 1;
}
