// The media role faked out: in-memory implementations of the media activities that behave like
// the real ones at the workflow boundary (long-running record that heartbeats and stops on
// request or cancellation, shipping that completes after the recording, idempotent ingest).
// Used to test workflow logic on the real Temporal server without GStreamer.
import { performance } from 'node:perf_hooks';
import { Context } from '@temporalio/activity';
import type { MediaActivities, PlaceInput, RecordActivityInput } from '../../activities/contracts';
import type { CompositeDesired, IngestEndpoints, RecordingSummary } from '../../workflows/livestream.types';
import type { HostMedia } from '../../pipelines/config';
import type { OutputStatus } from '../../pipelines/outputs/outputs';

interface Running {
  input: RecordActivityInput;
  stop: () => void;
  applied: CompositeDesired[];
}

export class FakeMedia {
  readonly calls: Array<{ name: string; input: unknown; at: number }> = [];
  readonly recordInputs: RecordActivityInput[] = [];
  /** When each run's record activity started (by child workflow id), for latency measurements. */
  readonly recordStartedAt = new Map<string, number>();
  readonly applied: Array<{ recordingId: string; desired: CompositeDesired }> = [];
  private readonly running = new Map<string, Running>();
  private readonly finished = new Map<string, number>();
  private readonly shippedReported = new Map<string, number>();
  private readonly finishWaiters = new Map<string, Array<() => void>>();
  private readonly ingests = new Map<string, IngestEndpoints>();
  private nextPort = 41000;
  /** Snippets each fake recording reports (so sequence hand-over between periods is visible). */
  snippetsPerRecording = 2;
  /** Live outputs every fake recording reports in its heartbeat, as a composite's record does. */
  outputs: OutputStatus[] | undefined;

  private key(livestreamId: string, recordingId: string) {
    return `${livestreamId}/${recordingId}`;
  }

  /** Record, ship and stop of one recording run come from the same child workflow. */
  private run(): string {
    return Context.current().info.workflowExecution!.workflowId;
  }

  private markFinished(key: string, snippets: number) {
    this.finished.set(key, (this.finished.get(key) ?? 0) + snippets);
    for (const w of this.finishWaiters.get(key) ?? []) w();
    this.finishWaiters.delete(key);
  }

  isRunning(workflowId: string): boolean {
    return this.running.has(workflowId);
  }

  activities(): MediaActivities & { ping(m: string): Promise<{ echo: string; worker: string }> } {
    const log = (name: string, input: unknown) => this.calls.push({ name, input, at: Date.now() });
    return {
      ping: async (m) => ({ echo: m, worker: 'fake-media' }),
      reserveCapacity: async (input: PlaceInput) => {
        log('reserveCapacity', input);
        return true;
      },
      releaseLivestream: async (input) => {
        log('releaseLivestream', input);
      },
      openIngest: async (input: { livestreamId: string; host: HostMedia; previous: IngestEndpoints | null }) => {
        log('openIngest', input);
        const k = this.key(input.livestreamId, input.host.hostId);
        let e = this.ingests.get(k);
        if (!e) {
          const port = this.nextPort;
          this.nextPort += 4;
          e = {
            address: '127.0.0.1',
            video: { port, payloadType: input.host.video.payloadType, codec: input.host.video.codec },
            audio: { port: port + 2, payloadType: input.host.audio.payloadType, codec: input.host.audio.codec },
          };
          this.ingests.set(k, e);
        }
        return e;
      },
      closeIngest: async (input) => {
        log('closeIngest', input);
        this.ingests.delete(this.key(input.livestreamId, input.hostId));
      },
      record: async (input: RecordActivityInput): Promise<RecordingSummary> => {
        log('record', input);
        this.recordInputs.push(input);
        const k = this.run();
        this.recordStartedAt.set(k, performance.now());
        const ctx = Context.current();
        await new Promise<void>((resolve, reject) => {
          const timer = setInterval(() => ctx.heartbeat({ running: true, ...(this.outputs ? { outputs: this.outputs } : {}) }), 500);
          this.running.set(k, {
            input,
            applied: [],
            stop: () => {
              clearInterval(timer);
              resolve();
            },
          });
          ctx.cancelled.catch((e) => {
            clearInterval(timer);
            reject(e);
          });
        }).finally(() => this.running.delete(k));
        const n = this.snippetsPerRecording;
        this.markFinished(k, n);
        return {
          recordingId: input.recordingId,
          snippets: n,
          firstSequence: input.startSequence,
          lastSequence: input.startSequence + n - 1,
          nextSequence: input.startSequence + n,
          durationMs: n * input.snippetSeconds * 1000,
          gaps: [],
          shipped: 0,
          restarts: 0,
          warnings: [],
        };
      },
      applyComposite: async (input) => {
        log('applyComposite', input);
        const r = this.running.get(this.run());
        if (!r) return false;
        r.applied.push(input.desired);
        this.applied.push({ recordingId: input.recordingId, desired: input.desired });
        return true;
      },
      stopRecording: async (input) => {
        log('stopRecording', input);
        const k = this.run();
        const r = this.running.get(k);
        if (r) {
          r.stop();
          return true;
        }
        this.markFinished(k, 0);
        return false;
      },
      shipRecording: async (input) => {
        log('shipRecording', input);
        const k = this.run();
        const ctx = Context.current();
        if (!this.finished.has(k)) await new Promise<void>((resolve) => {
          const timer = setInterval(() => ctx.heartbeat({}), 500);
          const done = () => {
            clearInterval(timer);
            resolve();
          };
          const list = this.finishWaiters.get(k) ?? [];
          list.push(done);
          this.finishWaiters.set(k, list);
        });
        // Like the real shipper: each run reports what it shipped itself.
        const total = this.finished.get(k) ?? 0;
        const already = this.shippedReported.get(k) ?? 0;
        this.shippedReported.set(k, total);
        return { shipped: total - already };
      },
    };
  }
}
