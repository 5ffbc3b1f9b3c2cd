// Command-line options shared by bench/run.mjs and the per-benchmark scripts, so every entry
// point takes the same flags (`npm run bench -- --quick --only ffi`).
import { parseArgs } from 'node:util';

export const BENCHES = ['ffi', 'http', 'ring', 'python', 'proxy', 'tls'];

const HELP = `usage: npm run bench -- [options]   (or node bench/ffi-vs-uds.mjs [options], node bench/http.mjs [options])
  --only LIST       ffi, http, ring, python, proxy, tls (comma list or repeated); default: all
  --quick           a fast smoke run: short measurements, one round
  --payloads LIST   FFI/UDS payload sizes in bytes (default 512,4096,10240,102400)
  --formats LIST    FFI/UDS formats (default raw,msgpack)
  --inflight LIST   FFI/UDS calls in flight (default 1,64)
  --duration S      seconds per HTTP load run (default 3; quick 1)
  --rounds N        alternating rounds per comparison (default 5; quick 1)
  --load NAME       wrk or autocannon (default: wrk when installed)
  --busy            FFI/UDS with a CPU hog per core, started and stopped by the benchmark
  --tests LIST      HTTP: only these tests (hello, chain, static, echo); skips the per-core part;
                    TLS: only these loads (handshakes, hello, cert-js)
  --out DIR         where results go (default bench/results; README tables only update there)
  -h, --help        this text`;

const list = (v, conv = String) => (v === undefined ? undefined : String(v).split(',').filter(Boolean).map(conv));

/** Parses argv into a frozen options object; exits with the usage text on --help or a bad flag. */
export function benchArgs(argv = process.argv.slice(2)) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        only: { type: 'string', multiple: true },
        quick: { type: 'boolean', default: false },
        payloads: { type: 'string' },
        formats: { type: 'string' },
        inflight: { type: 'string' },
        duration: { type: 'string' },
        rounds: { type: 'string' },
        load: { type: 'string' },
        busy: { type: 'boolean', default: false },
        tests: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    console.error(`${e.message}\n${HELP}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const only = (values.only ?? []).flatMap((v) => list(v));
  const bad = only.find((b) => !BENCHES.includes(b));
  if (bad) {
    console.error(`unknown benchmark "${bad}" (one of ${BENCHES.join(', ')})`);
    process.exit(2);
  }
  const quick = values.quick;
  const num = (v, name) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) {
      console.error(`--${name} needs a positive number, got "${v}"`);
      process.exit(2);
    }
    return n;
  };
  return Object.freeze({
    only: only.length ? only : BENCHES,
    quick,
    payloads: list(values.payloads, (v) => num(v, 'payloads')) ?? [512, 4096, 10240, 102400],
    formats: list(values.formats) ?? ['raw', 'msgpack'],
    inflight: list(values.inflight, (v) => num(v, 'inflight')) ?? [1, 64],
    // FFI/UDS: each side runs this long per round (ms); HTTP: seconds per load run.
    // More, shorter rounds rather than fewer long ones: the median of more ratios resists noise.
    ffiMs: quick ? 250 : 600,
    httpS: values.duration ? Math.max(1, Math.round(num(values.duration, 'duration'))) : quick ? 1 : 3, // whole seconds, as wrk takes
    rounds: values.rounds ? num(values.rounds, 'rounds') : quick ? 1 : 5,
    load: values.load,
    busy: values.busy,
    tests: list(values.tests) ?? null,
    out: values.out,
  });
}
