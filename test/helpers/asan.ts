// The native engine built with AddressSanitizer + UBSan (native/build/asan/) and what a tresty
// needs to load it: the sanitizers' runtimes preloaded into node (which is not built with them),
// halting on the first report so that a report is also a dead worker. Shared by the fuzz tests.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ENGINE_BUILT } from './engine.js';
import { make, nativeDir } from './native-http.js';

const lib = (name: string): string => spawnSync('gcc', [`-print-file-name=${name}`], { encoding: 'utf8' }).stdout.trim();
const asan = ENGINE_BUILT ? lib('libasan.so') : '';
const ubsan = ENGINE_BUILT ? lib('libubsan.so') : '';

/** Why the sanitized engine cannot run here, or null when it can. */
export const asanMissing: string | null = !ENGINE_BUILT ? 'the native engine is not built'
  : !asan.startsWith('/') || !fs.existsSync(asan) || !fs.existsSync(ubsan) ? 'gcc\'s libasan / libubsan are not installed' : null;

/** Builds native/build/asan/tresty_engine.node (make engine-asan; quick when it is up to date). */
export function buildAsanEngine(): void {
  make(['engine-asan']);
}

/** startTresty's env for a worker on the sanitized engine. */
export function asanEnv(): Record<string, string> {
  return {
    TRESTY_ENGINE_PATH: path.join(nativeDir, 'build', 'asan', 'tresty_engine.node'),
    LD_PRELOAD: `${asan}:${ubsan}`,
    ASAN_OPTIONS: 'detect_leaks=0:halt_on_error=1',
    UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
  };
}

/** What the sanitizers print when they find something (to match against a tresty's stderr). */
export const SANITIZER_REPORT = /AddressSanitizer|runtime error|LeakSanitizer/;
