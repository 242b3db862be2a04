// Prometheus metrics of a worker, served on its HTTP port at /metrics beside /healthz. Shipping
// counts come from the shipper's events; the media counters (frames, drops, pipeline CPU, RTMP
// bytes sent) from the pipelines' stats reports as they arrive, so a recording that ends between
// two scrapes is counted whole; running recordings, live outputs by state and backlog are read
// when scraped. Labels are kinds and states, never livestream or host ids (their number is
// unbounded).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ShipRegistry } from '../../activities/ship/ship.activity';
import type { ShipEvent } from '../../activities/ship/shipper';
import type { MediaRuntime, RecordingRef } from '../../activities/media/media-runtime';
import type { OutputKind, OutputState, OutputStatus } from '../../pipelines/outputs/outputs';
import type { PipelineStats } from '../../pipelines/protocol';

const RECORDING_KINDS = ['composite', 'individual'] as const;
const OUTPUT_KINDS: OutputKind[] = ['rtmp', 'hls'];
const OUTPUT_STATES: OutputState[] = ['connecting', 'connected', 'retrying', 'failed', 'stopped'];

/**
 * Turns running totals (a pipeline's frames since it started, an output's bytes since it was
 * added) into counter increments: how much each grew since it was last seen. A total seen for the
 * first time counts whole; one that went down started again (a new pipeline or output under the
 * same name) and counts whole too. A value that is no count (negative, NaN) adds nothing.
 */
export class RunningTotals {
  private readonly last = new Map<string, number>();

  growth(key: string, value: number): number {
    if (!Number.isFinite(value) || value < 0) return 0;
    const prev = this.last.get(key);
    this.last.set(key, value);
    if (prev === undefined || value < prev) return value;
    return value - prev;
  }

  /** Forgets every total whose key starts with `prefix` (a recording that ended). */
  forget(prefix: string): void {
    for (const k of this.last.keys()) if (k.startsWith(prefix)) this.last.delete(k);
  }

  get size(): number {
    return this.last.size;
  }
}

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

  private readonly framesOut = this.kindCounter('tapedeck_recording_frames_out_total', 'video frames the recordings wrote (encoded, or passed through), by recording kind');
  private readonly framesDropped = this.kindCounter(
    'tapedeck_recording_frames_dropped_total',
    'video frames the recordings dropped in front of their encoder (late or surplus), by recording kind',
  );
  private readonly pipelineCpu = this.kindCounter('tapedeck_pipeline_cpu_seconds_total', 'CPU time of the pipeline host processes (user + system), by recording kind');
  private readonly rtmpBytes = new Counter({
    name: 'tapedeck_rtmp_bytes_sent_total',
    help: 'bytes the composites sent to their RTMP destinations (written to the network)',
    registers: [this.registry],
  });
  private readonly totals = new RunningTotals();

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
        for (const kind of RECORDING_KINDS) this.set({ kind }, n[kind]);
      },
    });
    new Gauge({
      name: 'tapedeck_live_outputs',
      help: 'live outputs of the running composites (and RTMP destinations refused here), by output kind and state',
      labelNames: ['kind', 'state'] as const,
      registers: [this.registry],
      collect() {
        const n = new Map<string, number>();
        for (const rec of runtime()?.liveRecordings() ?? []) for (const o of rec.outputs) n.set(`${o.kind}/${o.state}`, (n.get(`${o.kind}/${o.state}`) ?? 0) + 1);
        for (const kind of OUTPUT_KINDS) for (const state of OUTPUT_STATES) this.set({ kind, state }, n.get(`${kind}/${state}`) ?? 0);
      },
    });
    new Gauge({
      name: 'tapedeck_pipeline_resident_bytes',
      help: 'resident memory of the running pipeline host processes at their last stats report, summed by recording kind',
      labelNames: ['kind'] as const,
      registers: [this.registry],
      collect() {
        const n = { composite: 0, individual: 0 };
        for (const rec of runtime()?.liveRecordings() ?? []) n[rec.kind] += rec.rssBytes ?? 0;
        for (const kind of RECORDING_KINDS) this.set({ kind }, n[kind]);
      },
    });
    for (const kind of RECORDING_KINDS) {
      this.framesOut.inc({ kind }, 0);
      this.framesDropped.inc({ kind }, 0);
      this.pipelineCpu.inc({ kind }, 0);
    }
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

  private kindCounter(name: string, help: string): Counter<'kind'> {
    return new Counter({ name, help, labelNames: ['kind'] as const, registers: [this.registry] });
  }

  /** The media runtime's hook: a recording's stats report or outputs change. */
  readonly onMediaStats = (rec: RecordingRef, report: { stats?: PipelineStats; outputs?: OutputStatus[] }): void => {
    const at = (name: string) => `${rec.key}\u0000${name}`;
    const { stats, outputs } = report;
    if (stats) {
      this.framesOut.inc({ kind: rec.kind }, this.totals.growth(at('frames'), stats.framesOut));
      this.framesDropped.inc({ kind: rec.kind }, this.totals.growth(at('dropped'), stats.droppedOut));
      this.pipelineCpu.inc({ kind: rec.kind }, this.totals.growth(at('cpu'), stats.cpuSeconds));
    }
    // An HLS output reports no bytes (its segments are files in the spool).
    for (const o of outputs ?? []) if (o.kind === 'rtmp') this.rtmpBytes.inc(this.totals.growth(at(`out/${o.id}`), o.bytesSent));
  };

  /** The media runtime's hook: a recording ended here, its totals are not needed any more. */
  readonly onRecordingEnd = (rec: RecordingRef): void => {
    this.totals.forget(`${rec.key}\u0000`);
  };

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
