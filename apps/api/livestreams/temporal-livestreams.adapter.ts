// LivestreamsPort over Temporal: the livestream workflow's id is the business key
// (`livestream/{livestreamId}`), starting is update-with-start (start or attach to the running
// run, then the `ready` update), changes are the workflow's signals and updates, status is its
// query. Every call is bounded by a deadline; Temporal's errors become domain errors here.
import { Client, WithStartWorkflowOperation, WorkflowUpdateFailedError, type Connection } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { Layout } from '../../../pipelines/config';
import {
  cameraSignal,
  hostJoinedUpdate,
  hostLeftSignal,
  layoutSignal,
  microphoneSignal,
  readyUpdate,
  statusQuery,
  stopSignal,
} from '../../../workflows/contract';
import { livestreamWorkflowId, type HostJoinedResult, type HostSpec, type LivestreamInput, type LivestreamState } from '../../../workflows/livestream.types';
import { CapacityExhausted, DomainError, LivestreamConflict, LivestreamNotFound } from '../common/errors';
import { temporalBackendError } from '../common/temporal-errors';
import { LivestreamsPort, type RecordingLive, type RunningCounts, type StartedLivestream } from './livestreams.port';

export interface TemporalLivestreamsOptions {
  connection: Connection;
  namespace: string;
  taskQueue: string;
  timeoutMs: number;
}

export class TemporalLivestreams extends LivestreamsPort {
  private readonly client: Client;

  constructor(private readonly opts: TemporalLivestreamsOptions) {
    super();
    this.client = new Client({ connection: opts.connection, namespace: opts.namespace });
  }

  workflowIdOf(livestreamId: string): string {
    return livestreamWorkflowId(livestreamId);
  }

  async start(input: LivestreamInput): Promise<StartedLivestream> {
    const workflowId = this.workflowIdOf(input.livestreamId);
    const ready = await this.call(input.livestreamId, 'start', () =>
      this.client.workflow.executeUpdateWithStart(readyUpdate, {
        startWorkflowOperation: new WithStartWorkflowOperation('livestream', {
          workflowId,
          taskQueue: this.opts.taskQueue,
          args: [input],
          // The running livestream is returned as it is (idempotent start). A livestream that
          // stopped is never recorded again under the same id: its snippet names would collide.
          // One whose start failed (no capacity) may be started again.
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        }),
      }),
    );
    return { workflowId, hosts: ready.hosts };
  }

  joinHost(livestreamId: string, spec: HostSpec): Promise<HostJoinedResult> {
    return this.call(livestreamId, 'joinHost', () => this.handle(livestreamId).executeUpdate(hostJoinedUpdate, { args: [spec] }));
  }

  leaveHost(livestreamId: string, hostId: string): Promise<void> {
    return this.call(livestreamId, 'leaveHost', () => this.handle(livestreamId).signal(hostLeftSignal, { hostId }));
  }

  setCamera(livestreamId: string, hostId: string, on: boolean): Promise<void> {
    return this.call(livestreamId, 'camera', () => this.handle(livestreamId).signal(cameraSignal, { hostId, on }));
  }

  setMicrophone(livestreamId: string, hostId: string, on: boolean): Promise<void> {
    return this.call(livestreamId, 'microphone', () => this.handle(livestreamId).signal(microphoneSignal, { hostId, on }));
  }

  setLayout(livestreamId: string, layout: Layout): Promise<void> {
    return this.call(livestreamId, 'layout', () => this.handle(livestreamId).signal(layoutSignal, { layout }));
  }

  stop(livestreamId: string, reason: string): Promise<void> {
    return this.call(livestreamId, 'stop', () => this.handle(livestreamId).signal(stopSignal, { reason }));
  }

  status(livestreamId: string): Promise<LivestreamState> {
    return this.call(livestreamId, 'status', () => this.handle(livestreamId).query(statusQuery));
  }

  async recordingLive(workflowId: string): Promise<RecordingLive | null> {
    let d;
    try {
      d = await this.opts.connection.withDeadline(Date.now() + this.opts.timeoutMs, () => this.client.workflow.getHandle(workflowId).describe());
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return null;
      throw await this.translate(workflowId, 'describe', e);
    }
    if (d.status.name !== 'RUNNING') return null;
    const live: RecordingLive = { record: null, ship: null };
    for (const a of d.raw.pendingActivities ?? []) {
      const kind = a.activityType?.name === 'record' ? 'record' : a.activityType?.name === 'shipRecording' ? 'ship' : null;
      if (!kind) continue;
      const payload = a.heartbeatDetails?.payloads?.[0];
      let details: object = {};
      try {
        if (payload) details = (defaultPayloadConverter.fromPayload(payload as Payload) as object | null) ?? {};
      } catch {
        // Details this API version cannot read: report the activity without them.
      }
      const beatSeconds = a.lastHeartbeatTime?.seconds;
      live[kind] = {
        ...details,
        heartbeatAt: beatSeconds != null ? new Date(Number(beatSeconds) * 1000 + Math.round((a.lastHeartbeatTime?.nanos ?? 0) / 1e6)).toISOString() : null,
        attempt: a.attempt ?? 1,
        ...(a.lastFailure?.message ? { lastFailure: a.lastFailure.message } : {}),
      };
    }
    return live;
  }

  async countRunning(): Promise<RunningCounts> {
    const count = (type: string) =>
      this.opts.connection
        .withDeadline(Date.now() + this.opts.timeoutMs, () => this.client.workflow.count(`WorkflowType = '${type}' AND ExecutionStatus = 'Running'`))
        .then((r) => r.count);
    const [livestreams, composite, individual] = await Promise.all([count('livestream'), count('compositeRecording'), count('individualRecording')]);
    return { livestreams, composite, individual };
  }

  private handle(livestreamId: string) {
    return this.client.workflow.getHandle(this.workflowIdOf(livestreamId));
  }

  private async call<T>(livestreamId: string, what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.opts.connection.withDeadline(Date.now() + this.opts.timeoutMs, fn);
    } catch (e) {
      throw await this.translate(livestreamId, what, e);
    }
  }

  private async translate(livestreamId: string, what: string, e: unknown): Promise<unknown> {
    if (e instanceof DomainError) return e;
    if (e instanceof WorkflowNotFoundError) return (await this.closed(livestreamId)) ? new LivestreamConflict(livestreamId, `livestream "${livestreamId}" has stopped`, 'stopped') : new LivestreamNotFound(livestreamId);
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      return new LivestreamConflict(livestreamId, `livestream "${livestreamId}" was already recorded and has stopped; a livestream id is recorded once`, 'stopped');
    }
    if (e instanceof WorkflowUpdateFailedError) {
      const cause = e.cause;
      if (cause instanceof ApplicationFailure && cause.type === 'CapacityExhausted') return new CapacityExhausted(livestreamId, cause.message);
      return new LivestreamConflict(livestreamId, `livestream "${livestreamId}" refused ${what}: ${cause instanceof Error ? cause.message : e.message}`);
    }
    return temporalBackendError(e, `${what} of livestream "${livestreamId}"`, this.opts.timeoutMs) ?? e;
  }

  /** A workflow that exists but has completed (signals and updates to it report "not found"). */
  private async closed(livestreamId: string): Promise<boolean> {
    try {
      const d = await this.opts.connection.withDeadline(Date.now() + this.opts.timeoutMs, () => this.handle(livestreamId).describe());
      return d.status.name !== 'RUNNING';
    } catch {
      return false;
    }
  }
}
