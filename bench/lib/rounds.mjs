// What both HTTP modes (bench/http.mjs, lib/http-percore.mjs) make of a test's rounds: a row per
// contender (medians over rounds) and each ratio as the median of its per-round ratios.
import { median, spread } from './stats.mjs';

/** runs: { [contender id]: [{ rps, p50Ms, p99Ms, errors }, ...one per round] } */
export function summarize(live, runs) {
  return live.map((c) => ({
    id: c.id, label: c.label,
    rps: median(runs[c.id].map((x) => x.rps)),
    rounds: runs[c.id].map((x) => Math.round(x.rps)),
    p50Ms: median(runs[c.id].map((x) => x.p50Ms)),
    p99Ms: median(runs[c.id].map((x) => x.p99Ms)),
    errors: runs[c.id].reduce((a, x) => a + x.errors, 0),
  }));
}

/** specs: [{ label, num, den, key? }] -> [{ label, num, den, key, value, rounds, spread, skipped }] */
export function ratiosOf(specs, runs) {
  return specs.map((q) => {
    const per = runs[q.num]?.length && runs[q.den]?.length ? runs[q.num].map((x, i) => x.rps / runs[q.den][i].rps) : [];
    return { label: q.label, num: q.num, den: q.den, key: q.key ?? null, value: per.length ? median(per) : null, rounds: per, spread: spread(per), skipped: per.length === 0 };
  });
}
