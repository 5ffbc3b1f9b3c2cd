// `tresty`: nginx's command line. Messages and exit codes follow nginx:
// "tresty: [emerg] ... in FILE:LINE" and exit 1 for a bad conf.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dumpConf, loadConf, type LoadedConf } from '../config/index.js';
import { isTrestyError } from '../errors.js';
import { runMaster, startFailureLevel } from '../master/master.js';
import { daemonize, isDaemonChild, reportToLauncher } from '../master/daemon.js';
import { readPidFile } from '../master/pidfile.js';
import { testHandlers } from '../phases/index.js';
import { testZones } from '../shared/index.js';
import { parseArgs, SIGNALS, USAGE, type CliArgs } from './args.js';

const out = (s: string): void => void process.stderr.write(`${s}\n`);

function version(): string {
  const pkg = new URL('../../../package.json', import.meta.url);
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function fail(level: 'emerg' | 'error' | 'alert', e: unknown): never {
  out(`tresty: [${level}] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}

function load(args: CliArgs, prefix: string, file: string): LoadedConf {
  return loadConf({ file, prefix, globals: args.globals });
}

function signalMaster(args: CliArgs, prefix: string, file: string): void {
  let pidPath: string;
  try {
    pidPath = load(args, prefix, file).conf.pid;
  } catch (e) {
    fail('emerg', e);
  }
  let pid: number;
  try {
    pid = readPidFile(pidPath);
  } catch (e) {
    fail('error', e);
  }
  const sig = SIGNALS[args.signal!];
  try {
    process.kill(pid, sig);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    fail('alert', `kill(${pid}, ${sig}) failed (${err.code ?? 'error'}: ${err.message})`);
  }
}

async function main(): Promise<void> {
  let args: CliArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    out(`tresty: ${(e as Error).message}`);
    process.exit(1);
  }
  if (args.help || args.version || args.versionFull) {
    out(`tresty version: tresty/${version()}`);
    if (args.versionFull) out(`built with Node.js ${process.version} (${process.platform}-${process.arch})`);
    if (args.help) process.stderr.write(`\n${USAGE}`);
    process.exit(0);
  }
  // Like nginx, the prefix is where relative paths start; tresty defaults it to the current directory.
  const prefix = path.resolve(args.prefix ?? '.');
  const file = path.resolve(prefix, args.conf ?? 'conf/nginx.conf');

  if (args.signal) {
    signalMaster(args, prefix, file);
    process.exit(0);
  }

  let loaded: LoadedConf;
  try {
    loaded = load(args, prefix, file);
    // -t also compiles every handler, so that a syntax error in a JS block fails the test.
    if (args.test) await testHandlers(loaded.conf);
    if (args.test) testZones(loaded.conf.sharedDicts.values());
  } catch (e) {
    if (args.test) {
      out(`tresty: [emerg] ${(e as Error).message}`);
      out(`tresty: configuration file ${file} test failed`);
      process.exit(1);
    }
    await reportToLauncher(e);
    fail('emerg', e);
  }
  if (args.test) {
    for (const w of loaded.conf.warnings) out(`tresty: [warn] ${w}`);
    if (!args.quiet) {
      out(`tresty: the configuration file ${file} syntax is ok`);
      out(`tresty: configuration file ${file} test is successful`);
    }
    if (args.dump) process.stdout.write(dumpConf(loaded.snapshot));
    return;
  }

  if (loaded.conf.daemon && !isDaemonChild()) {
    process.exit(await daemonize());
  }
  try {
    await runMaster({ file, prefix, globals: args.globals, loaded });
  } catch (e) {
    await reportToLauncher(e);
    fail(startFailureLevel(e), isTrestyError(e) || e instanceof Error ? e : String(e));
  }
}

await main();
