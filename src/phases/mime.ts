// A small MIME table (nginx's mime.types, the common part), by lower-cased extension.
export const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html', htm: 'text/html', shtml: 'text/html', css: 'text/css', xml: 'text/xml',
  txt: 'text/plain', csv: 'text/csv', md: 'text/markdown',
  js: 'application/javascript', mjs: 'application/javascript', json: 'application/json',
  gif: 'image/gif', jpeg: 'image/jpeg', jpg: 'image/jpeg', png: 'image/png', svg: 'image/svg+xml',
  svgz: 'image/svg+xml', ico: 'image/x-icon', webp: 'image/webp', avif: 'image/avif', bmp: 'image/x-ms-bmp',
  woff: 'font/woff', woff2: 'font/woff2', ttf: 'font/ttf', otf: 'font/otf',
  pdf: 'application/pdf', zip: 'application/zip', gz: 'application/gzip', tar: 'application/x-tar',
  wasm: 'application/wasm', bin: 'application/octet-stream', exe: 'application/octet-stream',
  mp3: 'audio/mpeg', ogg: 'audio/ogg', wav: 'audio/wav', mp4: 'video/mp4', webm: 'video/webm',
  atom: 'application/atom+xml', rss: 'application/rss+xml',
};

export function mimeType(file: string): string | undefined {
  const dot = file.lastIndexOf('.');
  if (dot < 0 || dot < file.lastIndexOf('/')) return undefined;
  return TYPES[file.slice(dot + 1).toLowerCase()];
}
