// Prometheus metrics of a worker, served on its HTTP port at /metrics beside /healthz. Shipping
// counts come from the shipper's events; running recordings and backlog are read when scraped.
// Labels are kinds, never livestream or host ids (their number is unbounded).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ShipRegistry } from '../../activities/ship/ship.activity';
import type { ShipEvent } from '../../activities/ship/shipper';
import type { MediaRuntime } from '../../activities/media/media-runtime';

export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly shipped = new Counter({
    name: 'tapedeck_snippets_shipped_total',
    help: 'snippets uploaded to Cloud Storage and announced on Pub/Sub, by recording kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'tapedeck_shipping_latency_seconds',
    help: 'from the end of a snippet (capture time) to the Pub/Sub acknowledgement of its message, by recording kind',
    labelNames: ['kind'] as const,
    buckets: [0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly quarantined = new Counter({
    name: 'tapedeck_snippets_quarantined_total',
    help: 'snippet files set aside as corrupt, truncated or empty',
    registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: 'tapedeck_shipping_retries_total',
    help: 'upload or publish attempts that failed and were retried',
    registers: [this.registry],
  });

  constructor(deps: { ships: ShipRegistry; runtime: () => MediaRuntime | undefined }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tapedeck_worker_' });
    const { ships, runtime } = deps;
    new Gauge({
      name: 'tapedeck_shipping_backlog_snippets',
      help: 'closed snippets waiting to be shipped, over the recordings this worker ships',
      registers: [this.registry],
      collect() {
        this.set(ships.statuses().reduce((n, s) => n + s.backlog.count, 0));
      },
    });
    new Gauge({
      name: 'tapedeck_shipping_backlog_oldest_seconds',
      help: 'age of the oldest snippet waiting to be shipped (0 when none waits)',
      registers: [this.registry],
      collect() {
        this.set(ships.statuses().reduce((m, s) => Math.max(m, (s.backlog.oldestAgeMs ?? 0) / 1000), 0));
      },
    });
    new Gauge({
      name: 'tapedeck_recordings_running',
      help: 'recordings whose pipeline runs on this worker, by kind',
      labelNames: ['kind'] as const,
      registers: [this.registry],
      collect() {
        const n = runtime()?.runningByKind() ?? { composite: 0, individual: 0 };
        this.set({ kind: 'composite' }, n.composite);
        this.set({ kind: 'individual' }, n.individual);
      },
    });
    new Gauge({
      name: 'tapedeck_ingest_hosts_open',
      help: 'hosts whose RTP endpoints are open on this worker',
      registers: [this.registry],
      collect() {
        this.set(runtime()?.openIngests ?? 0);
      },
    });
  }

  /** The shipper's event hook. */
  readonly onShipEvent = (e: ShipEvent): void => {
    if (e.type === 'shipped') {
      this.shipped.inc({ kind: e.message.kind });
      this.latency.observe({ kind: e.message.kind }, e.endToAckMs / 1000);
    } else if (e.type === 'quarantined') this.quarantined.inc();
    else if (e.type === 'retrying') this.retries.inc();
  };

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
