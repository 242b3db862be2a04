// Signals, updates and queries of the workflows: a wire contract shared by the workflows, the API
// client and the tests. Add new names; never rename one.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Layout } from '../pipelines/config';
import type { ClipState } from './clip.types';
import type {
  CompositeDesired,
  HostJoinedResult,
  HostSpec,
  LivestreamState,
  Placement,
  RecordingFinished,
  RecordingRef,
  RecordingSummary,
} from './livestream.types';

// ---- livestream workflow ----------------------------------------------------------------------
/** Resolves once the livestream is placed and its initial hosts have ingest endpoints. */
export const readyUpdate = defineUpdate<{ placement: Placement; hosts: HostJoinedResult[] }, []>('ready');
export const hostJoinedUpdate = defineUpdate<HostJoinedResult, [HostSpec]>('hostJoined');
export const hostLeftSignal = defineSignal<[{ hostId: string }]>('hostLeft');
export const cameraSignal = defineSignal<[{ hostId: string; on: boolean }]>('cameraChanged');
export const microphoneSignal = defineSignal<[{ hostId: string; on: boolean }]>('microphoneChanged');
export const layoutSignal = defineSignal<[{ layout: Layout }]>('layoutChanged');
export const stopSignal = defineSignal<[{ reason?: string }]>('stop');
/** Sent by a child recording workflow when it has finished (survives continue-as-new). */
export const recordingFinishedSignal = defineSignal<[RecordingFinished]>('recordingFinished');
export const statusQuery = defineQuery<LivestreamState>('status');

// ---- recording workflows (composite, individual) ----------------------------------------------
export const compositeChangedSignal = defineSignal<[CompositeDesired]>('compositeChanged');
export const stopRecordingSignal = defineSignal<[{ reason: string }]>('stopRecording');
export const recordingStatusQuery = defineQuery<RecordingStatus>('recordingStatus');
export const compositeDesiredQuery = defineQuery<CompositeDesired>('compositeDesired');

export interface RecordingStatus {
  ref: Pick<RecordingRef, 'workflowId' | 'recordingId' | 'kind' | 'hostId' | 'variant'>;
  phase: 'starting' | 'recording' | 'stopping' | 'shipping' | 'finished';
  appliedCompositeVersion: number;
  summary: RecordingSummary | null;
}

// ---- clip workflow ----------------------------------------------------------------------------
/** The clip's state while it runs (the workflow's result has the same shape once it is done). */
export const clipStatusQuery = defineQuery<ClipState>('clipStatus');
