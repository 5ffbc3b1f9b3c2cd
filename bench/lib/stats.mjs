// Latency samples and the few statistics the tables show.

/** Collects latencies (ms) in a growable Float64Array: no per-sample allocation while measuring. */
export class Samples {
  constructor(initial = 1 << 16) {
    this.data = new Float64Array(initial);
    this.n = 0;
  }

  add(ms) {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = ms;
  }

  /** Appends another Samples (rounds pooled into one distribution). */
  merge(other) {
    for (let i = 0; i < other.n; i++) this.add(other.data[i]);
    return this;
  }

  /** Nearest-rank percentile, p in [0, 100]. */
  percentile(p) {
    if (this.n === 0) return NaN;
    const sorted = this.data.slice(0, this.n).sort();
    return sorted[Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1))];
  }
}

export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Spread of per-round values as (max - min) / median, so a reader sees how noisy a cell was. */
export function spread(xs) {
  const s = xs.filter((x) => Number.isFinite(x));
  if (s.length < 2) return 0;
  return (Math.max(...s) - Math.min(...s)) / median(s);
}

/** Pearson's r of two equal-length lists; null when either does not vary. */
export function correlation(xs, ys) {
  const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
  const mx = mean(xs), my = mean(ys);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null;
}
