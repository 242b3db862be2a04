// ClipsPort over Temporal: one workflow per clip, id `clip/{clipId}` (a business key: the same
// request finds the same workflow), started on the control queue; status from its query while it
// runs and from its result once it is done. Temporal errors become the API's domain errors.
import { Client, WorkflowFailedError } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { clipWorkflowId, type ClipState, type ClipWorkflowInput } from '../../../workflows/clip.types';
import { clipStatusQuery, statusQuery } from '../../../workflows/contract';
import { livestreamWorkflowId, type LivestreamState } from '../../../workflows/livestream.types';
import { DomainError } from '../common/errors';
import { temporalBackendError } from '../common/temporal-errors';
import type { TemporalLivestreamsOptions } from '../livestreams/temporal-livestreams.adapter';
import { ClipsPort } from './clips.port';

export class TemporalClips extends ClipsPort {
  private readonly client: Client;

  constructor(private readonly opts: TemporalLivestreamsOptions) {
    super();
    this.client = new Client({ connection: opts.connection, namespace: opts.namespace });
  }

  async start(input: ClipWorkflowInput, again = false): Promise<{ workflowId: string; existed: boolean }> {
    const workflowId = clipWorkflowId(input.clipId);
    try {
      await this.call('start', () =>
        this.client.workflow.start('clip', {
          workflowId,
          taskQueue: this.opts.taskQueue,
          args: [input],
          // Same request, same clip: a running or finished clip is found, not started again (unless
          // the service asks for another run of a clip that failed for a passing reason).
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: again ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE',
        }),
      );
      return { workflowId, existed: false };
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, existed: true };
      throw e;
    }
  }

  async get(clipId: string): Promise<ClipState | null> {
    const handle = this.client.workflow.getHandle(clipWorkflowId(clipId));
    try {
      const d = await this.call('describe', () => handle.describe());
      if (d.status.name === 'RUNNING') return await this.call('query', () => handle.query(clipStatusQuery));
      if (d.status.name === 'COMPLETED') return await this.call('result', () => handle.result() as Promise<ClipState>);
      // Terminated, cancelled, timed out or failed: the query still answers from the last state.
      const last = await this.call('query', () => handle.query(clipStatusQuery)).catch(() => null);
      return last ? { ...last, status: 'failed', error: { code: 'merge_failed', message: `clip workflow ${d.status.name.toLowerCase()}` } } : null;
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return null;
      if (e instanceof WorkflowFailedError) return null;
      throw e;
    }
  }

  async livestream(livestreamId: string): Promise<LivestreamState | null> {
    try {
      return await this.call('livestream status', () => this.client.workflow.getHandle(livestreamWorkflowId(livestreamId)).query(statusQuery));
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return null;
      throw e;
    }
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.opts.connection.withDeadline(Date.now() + this.opts.timeoutMs, fn);
    } catch (e) {
      if (e instanceof DomainError || e instanceof WorkflowNotFoundError || e instanceof WorkflowExecutionAlreadyStartedError) throw e;
      throw temporalBackendError(e, what, this.opts.timeoutMs) ?? e;
    }
  }
}
