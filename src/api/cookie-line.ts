// A cookie's value as nginx finds it in the Cookie lines ($cookie_NAME, the userid module).

/** The value of the first NAME= in the lines (the name's case aside), with the line it is in. */
export function cookieWithLine(lines: string | string[] | undefined, name: string): { value: string; line: string } | undefined {
  if (lines === undefined) return undefined;
  const lname = name.toLowerCase();
  for (const line of typeof lines === 'string' ? [lines] : lines) {
    const value = cookieInLine(line, lname);
    if (value !== undefined) return { value, line };
  }
  return undefined;
}

export function cookieValue(lines: string | string[] | undefined, name: string): string | undefined {
  return cookieWithLine(lines, name)?.value;
}

/**
 * nginx 1.22's parse_multi_header_lines: a piece (after `;` or `,` and spaces) that starts with
 * the name in any case, spaces, `=`, spaces: the value up to the next `;`, its trailing spaces kept.
 */
function cookieInLine(line: string, lname: string): string | undefined {
  const end = line.length;
  let p = 0;
  while (p < end) {
    if (line.slice(p, p + lname.length).toLowerCase() === lname) {
      let q = p + lname.length;
      while (q < end && line.charCodeAt(q) === 0x20) q++;
      if (q < end && line.charCodeAt(q) === 0x3d) {
        q++;
        while (q < end && line.charCodeAt(q) === 0x20) q++;
        const semi = line.indexOf(';', q);
        return line.slice(q, semi < 0 ? end : semi);
      }
    }
    while (p < end) { const c = line.charCodeAt(p++); if (c === 0x3b || c === 0x2c) break; }
    while (p < end && line.charCodeAt(p) === 0x20) p++;
  }
  return undefined;
}

