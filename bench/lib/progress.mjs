// Progress on stderr, so stdout keeps only the tables. On a terminal one line is rewritten in
// place; in a log (CI, a pipe) each step is its own line.
const tty = process.stderr.isTTY;

export function progress(name, total) {
  const t0 = Date.now();
  let done = 0;
  return {
    step(what) {
      done++;
      const secs = ((Date.now() - t0) / 1000).toFixed(0).padStart(3);
      const line = `[${name} ${String(done).padStart(String(total).length)}/${total} ${secs}s] ${what}`;
      if (tty) process.stderr.write(`\r\x1b[K${line}`);
      else process.stderr.write(`${line}\n`);
    },
    note(msg) {
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}${name}: ${msg}\n`);
    },
    end() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}
