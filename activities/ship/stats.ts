// Rolling latency percentiles for the status object and heartbeats: the last N samples are kept,
// so a long recording's status reflects recent behaviour and memory stays bounded.
export interface LatencySummary {
  count: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
}

export class LatencyWindow {
  private samples: number[] = [];
  private total = 0;

  constructor(private readonly size = 1000) {}

  add(ms: number): void {
    this.samples.push(ms);
    if (this.samples.length > this.size) this.samples.shift();
    this.total++;
  }

  /** Restores samples from a heartbeat (a resumed activity keeps its history). */
  restore(samples: number[], total: number): void {
    this.samples = samples.slice(-this.size);
    this.total = Math.max(total, this.samples.length);
  }

  recent(n: number): number[] {
    return this.samples.slice(-n);
  }

  get count(): number {
    return this.total;
  }

  summary(): LatencySummary {
    if (this.samples.length === 0) return { count: this.total, p50: null, p95: null, max: null };
    const sorted = [...this.samples].sort((a, b) => a - b);
    return { count: this.total, p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), max: sorted.at(-1)! };
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) throw new Error('no samples');
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Bounded exponential backoff with "equal jitter": half fixed, half random, so retries of many
 *  recordings after one outage do not arrive in lockstep. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
