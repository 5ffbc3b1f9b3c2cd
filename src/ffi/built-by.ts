// How to get a library of tresty's own that is not built (or no longer loads): the loaders and the
// example runtimes are built by `npm install` only when their toolchain is found.
const BUILD = 'then "npm run build"';
const PYTHON = 'the Python loader is built by "npm install" when Python\'s headers are found ' +
  `(Debian: apt-get install python3-dev python3-cffi, ${BUILD}; docs/runtimes.md, "Python")`;
const JAVA = 'the Java loader is built by "npm install" when a JDK is found ' +
  `(Debian: apt-get install default-jdk-headless libjnr-ffi-java, ${BUILD}; docs/runtimes.md, "Java")`;
const GO = `the Go example runtimes are built by "npm install" when Go 1.19 or later is found (Debian: apt-get install golang-go, ${BUILD})`;
const RUST = `the Rust example runtimes are built by "npm install" when rustc is found (rustup, or Debian: apt-get install rustc; ${BUILD})`;
const C = `the C example runtimes are built by "npm install" with make and a C compiler (Debian: apt-get install build-essential, ${BUILD})`;

const BUILT_BY: Record<string, string> = {
  ffi_python3: PYTHON, ffi_java: JAVA,
  echo_go: GO, gzip_go: GO, echo_rust: RUST, wordfreq_rust: RUST, echo_c: C, sha256_c: C,
};

/** For a "not found" or "cannot be loaded" error: how to get the library, or ''. */
export function builtHint(lib: string): string {
  const hint = BUILT_BY[lib.replace(/^lib/, '').replace(/\.so$/, '')];
  return hint ? ` (${hint})` : '';
}
