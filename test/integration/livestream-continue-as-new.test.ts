// The livestream workflow across continue-as-new, on a real Temporal dev server told to suggest
// it early (a history of 60 events), with the media role faked out: the new run carries the
// hosts, their ingest endpoints, the recordings and the composite's state; children started by an
// earlier run report to the new one; the composite is never restarted; every run replays.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../../apps/worker/worker';
import { waitUntil } from '../../infra/stack/net';
import { cameraSignal, hostJoinedUpdate, readyUpdate, statusQuery, stopSignal } from '../../workflows/contract';
import { livestreamWorkflowId, type LivestreamState, type LivestreamSummary } from '../../workflows/livestream.types';
import { startFakeMediaTemporal, type FakeMediaTemporal } from '../support/fake-media-temporal';

const CONTROL = 'tapedeck-control-can';
const MEDIA = 'tapedeck-media-fake-can';

const eventually = (check: () => Promise<boolean>, what: string) => waitUntil(check, { timeoutMs: 20_000, intervalMs: 150, what });

describe('livestream workflow across continue-as-new (real Temporal, media faked out)', () => {
  let temporal: FakeMediaTemporal;

  before(async () => {
    temporal = await startFakeMediaTemporal({
      controlTaskQueue: CONTROL,
      mediaTaskQueue: MEDIA,
      serverArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=60'],
    });
  });
  after(async () => {
    await temporal?.close();
  });

  it('carries hosts, endpoints, recordings and the composite into the next run', { timeout: 120_000 }, async () => {
    const { env, media } = temporal;
    const livestreamId = 'ls-can';
    const prefix = livestreamWorkflowId(livestreamId);
    const handle = await env.client.workflow.start('livestream', {
      taskQueue: CONTROL,
      workflowId: prefix,
      args: [{ livestreamId, hosts: [{ hostId: 'h1' }, { hostId: 'h2', camera: false }], composite: { layout: { kind: 'grid' }, rtmp: [], hls: false }, individual: true, snippetSeconds: 15 }],
    });
    const ready = await handle.executeUpdate(readyUpdate);
    const endpoints = Object.fromEntries(ready.hosts.map((h) => [h.hostId, h.ingest]));
    const firstRunId = (await handle.describe()).runId;
    const status = () => env.client.workflow.getHandle(prefix).query(statusQuery) as Promise<LivestreamState>;
    const running = async () => (await status()).recordings.filter((r) => r.state === 'running').map((r) => r.workflowId).sort();
    await eventually(async () => (await running()).length === 3, 'composite, h1 av, h2 audio');

    // Camera toggles of h1 end and start its periods until the history is long enough for the
    // server to suggest continue-as-new.
    let toggles = 0;
    const runIds = new Set([firstRunId]);
    while (runIds.size < 2) {
      assert.ok(toggles < 40, 'continue-as-new within 40 camera toggles');
      const on = toggles % 2 === 1;
      await handle.signal(cameraSignal, { hostId: 'h1', on });
      toggles += 1;
      const period = toggles + 1;
      await eventually(async () => (await running()).includes(`${prefix}/host/h1/${period}`), `h1 period ${period}`);
      runIds.add((await env.client.workflow.getHandle(prefix).describe()).runId);
    }

    // The new run has the same hosts, endpoints and recordings; a repeated join answers the same.
    const s = await status();
    assert.deepEqual(Object.keys(s.hosts).sort(), ['h1', 'h2']);
    assert.deepEqual(s.hosts.h1!.ingest, endpoints.h1);
    assert.deepEqual(s.hosts.h2!.ingest, endpoints.h2);
    assert.equal(s.hosts.h1!.media.camera, toggles % 2 === 0);
    assert.ok(s.recordings.some((r) => r.workflowId === `${prefix}/host/h1/1` && r.state === 'finished'), 'history of the first run carried');
    const current = env.client.workflow.getHandle(prefix);
    assert.deepEqual((await current.executeUpdate(hostJoinedUpdate, { args: [{ hostId: 'h1' }] })).ingest, endpoints.h1);

    // A host joining after continue-as-new reaches the composite that an earlier run started.
    const appliedBefore = media.applied.length;
    await current.executeUpdate(hostJoinedUpdate, { args: [{ hostId: 'h3' }] });
    await eventually(async () => media.applied.slice(appliedBefore).some((a) => a.desired.hosts.some((h) => h.hostId === 'h3')), 'h3 in the composite');

    await current.signal(stopSignal, { reason: 'over' });
    const summary = (await current.result()) as LivestreamSummary;
    for (const r of summary.recordings) assert.equal(r.state, 'finished', r.workflowId);
    const ids = summary.recordings.map((r) => r.workflowId);
    assert.ok(ids.includes(`${prefix}/composite`) && ids.includes(`${prefix}/host/h1/1`) && ids.includes(`${prefix}/host/h3/1`), ids.join(' '));
    assert.equal(ids.filter((id) => id.startsWith(`${prefix}/host/h1/`)).length, toggles + 1, 'every h1 period, before and after continue-as-new');
    const compositeStarts = media.recordInputs.filter((i) => i.livestreamId === livestreamId && i.recordingId === 'composite');
    assert.equal(compositeStarts.length, 1, 'the composite ran once, across runs');

    // Every run of the livestream replays.
    const bundle = await workflowBundle();
    const lastRunId = (await current.describe()).runId;
    assert.notEqual(lastRunId, firstRunId);
    for (const runId of new Set([firstRunId, lastRunId])) {
      const history = await env.client.workflow.getHandle(prefix, runId).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: bundle }, history, `${prefix}/${runId}`);
    }
  });
});
