// The livestream workflow on a real Temporal dev server, with the media role faked out
// (test/support/fake-media.ts): the scripted life of a livestream produces exactly the child
// workflows the rules call for, duplicate and bogus signals are harmless, and the recorded
// history replays without nondeterminism.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { workflowBundle } from '../../apps/worker/worker';
import {
  cameraSignal,
  hostJoinedUpdate,
  hostLeftSignal,
  layoutSignal,
  microphoneSignal,
  readyUpdate,
  statusQuery,
  stopSignal,
} from '../../workflows/contract';
import { livestreamWorkflowId, type LivestreamState, type LivestreamSummary } from '../../workflows/livestream.types';
import type { FakeMedia } from '../support/fake-media';
import { startFakeMediaTemporal, type FakeMediaTemporal } from '../support/fake-media-temporal';

const CONTROL = 'tapedeck-control-lw';
const MEDIA = 'tapedeck-media-fake-1';

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe('livestream workflow (real Temporal, media faked out)', () => {
  let temporal: FakeMediaTemporal;
  let env: TestWorkflowEnvironment;
  let media: FakeMedia;

  before(async () => {
    temporal = await startFakeMediaTemporal({ controlTaskQueue: CONTROL, mediaTaskQueue: MEDIA });
    ({ env, media } = temporal);
  });

  after(async () => {
    await temporal?.close();
  });

  it('runs the scripted life of a livestream with exactly the right child workflows', { timeout: 120_000 }, async () => {
    const livestreamId = 'ls-script';
    const handle: WorkflowHandle = await env.client.workflow.start('livestream', {
      taskQueue: CONTROL,
      workflowId: livestreamWorkflowId(livestreamId),
      args: [{ livestreamId, hosts: [], composite: { layout: { kind: 'grid' }, rtmp: [], hls: false }, individual: true, snippetSeconds: 15 }],
    });
    const ready = await handle.executeUpdate(readyUpdate);
    assert.deepEqual(ready.placement, { workerId: 'fake-1', taskQueue: MEDIA });
    const status = () => handle.query(statusQuery) as Promise<LivestreamState>;
    const liveIds = async () => (await status()).recordings.filter((r) => r.state === 'running').map((r) => r.workflowId).sort();

    // Three hosts join: h1 camera on, h2 microphone only, h3 neither.
    const j1 = await handle.executeUpdate(hostJoinedUpdate, { args: [{ hostId: 'h1', displayName: 'Ada' }] });
    await handle.executeUpdate(hostJoinedUpdate, { args: [{ hostId: 'h2', camera: false, microphone: true }] });
    await handle.executeUpdate(hostJoinedUpdate, { args: [{ hostId: 'h3', camera: false, microphone: false, video: { codec: 'H264', payloadType: 102 } }] });
    assert.equal(j1.ingest.video.codec, 'VP8');
    assert.equal(j1.ingest.audio.payloadType, 111);
    // A repeated join returns the same endpoints.
    assert.deepEqual(await handle.executeUpdate(hostJoinedUpdate, { args: [{ hostId: 'h1' }] }), j1);
    // A malformed join is rejected with a reason, and changes nothing.
    await assert.rejects(handle.executeUpdate(hostJoinedUpdate, { args: [{ hostId: '../etc' }] }), (e: unknown) => {
      assert.ok(e instanceof WorkflowUpdateFailedError);
      assert.match(String(((e as Error).cause as Error | undefined)?.message), /hostId must match/);
      return true;
    });

    const prefix = `livestream/${livestreamId}`;
    await eventually(async () => JSON.stringify(await liveIds()) === JSON.stringify([`${prefix}/composite`, `${prefix}/host/h1/1`, `${prefix}/host/h2/1`]), 'composite, h1 av, h2 audio');

    // Cameras: h3 on (av), h1 off (its av period ends; an audio period continues its numbering).
    await handle.signal(cameraSignal, { hostId: 'h3', on: true });
    await handle.signal(cameraSignal, { hostId: 'h1', on: false });
    await eventually(
      async () => JSON.stringify(await liveIds()) === JSON.stringify([`${prefix}/composite`, `${prefix}/host/h1/2`, `${prefix}/host/h2/1`, `${prefix}/host/h3/1`]),
      'h1 audio period, h3 av',
    );
    // Duplicate and bogus signals are harmless.
    await handle.signal(cameraSignal, { hostId: 'h3', on: true });
    await handle.signal(cameraSignal, { hostId: 'nobody', on: true });
    await handle.signal(microphoneSignal, { hostId: 'ghost', on: false });

    // h2 leaves; h4 (H.264) joins; the layout changes to spotlight on h4.
    await handle.signal(hostLeftSignal, { hostId: 'h2' });
    const j4 = await handle.executeUpdate(hostJoinedUpdate, { args: [{ hostId: 'h4', video: { codec: 'H264', payloadType: 102 } }] });
    assert.equal(j4.ingest.video.codec, 'H264');
    await handle.signal(layoutSignal, { layout: { kind: 'spotlight', spotlightHostId: 'h4' } });
    await handle.signal(layoutSignal, { layout: { kind: 'spotlight', spotlightHostId: 'h2' } }); // h2 left: rejected
    await eventually(
      async () => JSON.stringify(await liveIds()) === JSON.stringify([`${prefix}/composite`, `${prefix}/host/h1/2`, `${prefix}/host/h3/1`, `${prefix}/host/h4/1`]),
      'h2 stopped, h4 av',
    );
    await eventually(async () => media.applied.some((a) => a.desired.layout.kind === 'spotlight' && a.desired.hosts.some((h) => h.hostId === 'h4')), 'spotlight reached the composite');
    const lastApplied = media.applied.at(-1)!.desired;
    assert.deepEqual(lastApplied.hosts.map((h) => h.hostId).sort(), ['h1', 'h3', 'h4']);
    assert.deepEqual(lastApplied.layout, { kind: 'spotlight', spotlightHostId: 'h4' });
    await eventually(async () => media.calls.some((c) => c.name === 'closeIngest' && (c.input as { hostId: string }).hostId === 'h2'), 'h2 ingest closed');

    const st = await status();
    assert.ok(st.notices.some((n) => n.includes('"nobody"')), 'bogus camera signal noted');
    assert.ok(st.notices.some((n) => n.includes('layoutChanged rejected')), 'bad layout noted');

    // Stop twice: one graceful stop.
    await handle.signal(stopSignal, { reason: 'show over' });
    await handle.signal(stopSignal, { reason: 'again' });
    const summary = (await handle.result()) as LivestreamSummary;
    assert.equal(summary.stopReason, 'show over');

    const byId = Object.fromEntries(summary.recordings.map((r) => [r.workflowId, r]));
    assert.deepEqual(Object.keys(byId).sort(), [
      `${prefix}/composite`,
      `${prefix}/host/h1/1`,
      `${prefix}/host/h1/2`,
      `${prefix}/host/h2/1`,
      `${prefix}/host/h3/1`,
      `${prefix}/host/h4/1`,
    ]);
    for (const r of summary.recordings) assert.equal(r.state, 'finished', r.workflowId);
    const inputs = Object.fromEntries(media.recordInputs.filter((i) => i.livestreamId === livestreamId).map((i) => [`${i.recordingId}:${i.variant}:${i.startSequence}`, i]));
    assert.deepEqual(Object.keys(inputs).sort(), [
      'composite:av:0',
      'host-h1:audio:2', // continues after the 2 snippets of h1's first period
      'host-h1:av:0',
      'host-h2:audio:0',
      'host-h3:av:0',
      'host-h4:av:0',
    ]);
    assert.equal(inputs['host-h4:av:0']!.host!.video.codec, 'H264');
    assert.equal(inputs['composite:av:0']!.mediaTaskQueue, MEDIA);
    assert.equal(byId[`${prefix}/host/h1/2`]!.summary!.firstSequence, 2);
    assert.equal(byId[`${prefix}/composite`]!.summary!.shipped, 2);
    assert.ok(media.calls.some((c) => c.name === 'releaseLivestream'));

    // The recorded histories replay without nondeterminism errors.
    const bundle = await workflowBundle();
    for (const id of [livestreamWorkflowId(livestreamId), `${prefix}/composite`, `${prefix}/host/h1/2`]) {
      const history = await env.client.workflow.getHandle(id).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: bundle }, history, id);
    }
  });

  it('fails a start clearly when no media worker can take it', { timeout: 60_000 }, async () => {
    const hosts = Array.from({ length: 60 }, (_, i) => ({ hostId: `h${i}` }));
    const handle = await env.client.workflow.start('livestream', {
      taskQueue: CONTROL,
      workflowId: livestreamWorkflowId('ls-too-big'),
      args: [{ livestreamId: 'ls-too-big', hosts, composite: { layout: { kind: 'grid' }, rtmp: [], hls: false }, individual: true, snippetSeconds: 15 }],
    });
    await assert.rejects(handle.executeUpdate(readyUpdate), (e: unknown) => {
      assert.match(String(((e as Error).cause as Error | undefined)?.message ?? (e as Error).message), /media workers are full: livestream ls-too-big needs [\d.]+ cores/);
      return true;
    });
    await assert.rejects(handle.result(), (e: unknown) => /media workers are full/.test(String(((e as Error).cause as Error | undefined)?.message)));
  });
});
