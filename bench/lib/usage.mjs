// Argument parsing for the smaller bench scripts: `--help` prints the usage line and a bad or
// unknown flag prints the usage with what was wrong, instead of parseArgs's stack trace.
import { parseArgs } from 'node:util';

/** parseArgs({ options }) on process.argv; exits 0 with `usage` on --help/-h, 2 on a bad flag. */
export function argsOrUsage(usage, options) {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  try {
    return parseArgs({ args: argv, options }).values;
  } catch (e) {
    console.error(`${e.message}\n${usage}`);
    process.exit(2);
  }
}
