// Prometheus metrics of the API, in a registry of its own (one per app, so tests that build
// several apps in one process do not collide). Labels are route patterns, never ids.
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Visibility counts are cached this long: scrapes must stay cheap for Temporal. */
const RUNNING_REFRESH_MS = 10_000;

@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'tapedeck_api_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'tapedeck_api_request_duration_seconds',
    help: 'time to answer HTTP requests, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  /** Livestream operations the API passed to Temporal, by operation and outcome code. */
  readonly operations = new Counter({
    name: 'tapedeck_api_livestream_operations_total',
    help: 'livestream operations sent to the workflows, by operation and outcome (ok or an error code)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });

  private running: (() => Promise<{ livestreams: number; composite: number; individual: number }>) | undefined;
  private runningCache: { at: number; value: Promise<{ livestreams: number; composite: number; individual: number } | null> } | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tapedeck_api_' });
    const read = () => this.readRunning();
    new Gauge({
      name: 'tapedeck_livestreams_running',
      help: 'livestream workflows running, over the cluster (Temporal visibility; refreshed at most every 10 s)',
      registers: [this.registry],
      async collect() {
        const r = await read();
        if (r) this.set(r.livestreams);
      },
    });
    new Gauge({
      name: 'tapedeck_recordings_running',
      help: 'recording workflows running, by kind, over the cluster (Temporal visibility; refreshed at most every 10 s)',
      labelNames: ['kind'] as const,
      registers: [this.registry],
      async collect() {
        const r = await read();
        if (!r) return;
        this.set({ kind: 'composite' }, r.composite);
        this.set({ kind: 'individual' }, r.individual);
      },
    });
  }

  /** Where the running-workflow gauges read from (the livestream feature registers it). */
  countRunningWith(read: () => Promise<{ livestreams: number; composite: number; individual: number }>): void {
    this.running = read;
  }

  private readRunning(): Promise<{ livestreams: number; composite: number; individual: number } | null> {
    const now = Date.now();
    if (!this.running) return Promise.resolve(null);
    if (!this.runningCache || now - this.runningCache.at > RUNNING_REFRESH_MS) {
      // A backend that does not answer leaves the gauges out of this scrape, never fails it.
      this.runningCache = { at: now, value: this.running().catch(() => null) };
    }
    return this.runningCache.value;
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.latency.observe(labels, seconds);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
