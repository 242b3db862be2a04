// Prometheus metrics of the API, in a registry of its own (one per app, so tests that build
// several apps in one process do not collide). Labels are route patterns, never ids.
import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tapedeck_api_' });
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
