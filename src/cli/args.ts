// nginx's command line: -c FILE, -p PREFIX, -g DIRECTIVES, -s SIGNAL, -t, -T, -q, -v, -V, -h/-?.
// Flags without a value may be grouped (-tq); a value may follow its flag directly (-pPREFIX).
import { TrestyError } from '../errors.js';

export type Signal = 'stop' | 'quit' | 'reopen' | 'reload';
export const SIGNALS: Record<Signal, NodeJS.Signals> = { stop: 'SIGTERM', quit: 'SIGQUIT', reopen: 'SIGUSR1', reload: 'SIGHUP' };

export interface CliArgs {
  help: boolean;
  version: boolean;
  versionFull: boolean;
  test: boolean;
  dump: boolean;
  quiet: boolean;
  prefix?: string;
  conf?: string;
  globals?: string;
  signal?: Signal;
}

const usage = (msg: string): TrestyError => new TrestyError('TRESTY_ERR_CLI_USAGE', msg);

export function parseArgs(argv: readonly string[]): CliArgs {
  const a: CliArgs = { help: false, version: false, versionFull: false, test: false, dump: false, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg.length < 2) throw usage(`invalid option: "${arg}"`);
    for (let j = 1; j < arg.length; j++) {
      const f = arg[j]!;
      switch (f) {
        case '?': case 'h': a.help = true; continue;
        case 'v': a.version = true; continue;
        case 'V': a.versionFull = true; continue;
        case 't': a.test = true; continue;
        case 'T': a.test = true; a.dump = true; continue;
        case 'q': a.quiet = true; continue;
        case 'p': case 'c': case 'g': case 's': {
          // The rest of this word, else the next word, is the value.
          let value = arg.slice(j + 1);
          if (value === '') {
            if (i + 1 >= argv.length) throw usage(`option "-${f}" requires ${valueName(f)}`);
            value = argv[++i]!;
          }
          if (f === 'p') a.prefix = value;
          else if (f === 'c') a.conf = value;
          else if (f === 'g') a.globals = value;
          else {
            if (!(value in SIGNALS)) throw usage(`invalid option: "-s ${value}"`);
            a.signal = value as Signal;
          }
          j = arg.length;
          continue;
        }
        default:
          throw usage(`invalid option: "${arg.slice(j)}"`);
      }
    }
  }
  return a;
}

function valueName(f: string): string {
  return f === 'p' ? 'directory name' : f === 'c' ? 'file name' : f === 'g' ? 'parameter' : 'signal';
}

export const USAGE = `Usage: tresty [-?hvVtTq] [-s signal] [-p prefix] [-c filename] [-g directives]

Options:
  -?,-h         : this help
  -v            : show version and exit
  -V            : show version and build details and exit
  -t            : test configuration and exit
  -T            : test configuration, dump it and exit
  -q            : suppress non-error messages during configuration testing
  -s signal     : send signal to a master process: stop, quit, reopen, reload
  -p prefix     : set prefix path (default: the current directory)
  -c filename   : set configuration file (default: conf/nginx.conf under the prefix)
  -g directives : set global directives out of configuration file
`;
