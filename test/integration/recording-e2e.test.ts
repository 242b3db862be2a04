// The recording path end to end, with nothing faked: Temporal dev server, a real worker process
// (control + media roles), the livestream and recording workflows, RTP from the mock SFU into the
// worker's ingest, GStreamer pipelines, the spool, shipping to the GCS and Pub/Sub emulators.
// The worker is SIGKILLed mid-recording; a new worker with the same id continues the same
// recordings with the next sequence numbers, and nothing closed before the kill is lost. A host
// joins the running composite, the layout changes, and the worker restarts gracefully.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { createStorage } from '../../apps/common/clients';
import { freePort, sleep, waitUntil } from '../../infra/stack/net';
import { ManagedProcess } from '../../infra/stack/process';
import { PROJECT_ROOT } from '../../infra/stack/tools';
import { hostJoinedUpdate, layoutSignal, readyUpdate, statusQuery, stopSignal } from '../../workflows/contract';
import { MEDIA_REGISTRY_ID, mediaWorkersQuery } from '../../workflows/media-registry.workflow';
import { livestreamWorkflowId, type LivestreamState, type LivestreamSummary } from '../../workflows/livestream.types';
import { e2eScope, sendHost, testMediaWorkerEnv } from '../support/e2e';
import { testEnv } from '../support/env';
import { startE2eServers } from '../support/e2e-stack';

const SNIPPET_SECONDS = 3;

describe('recording end to end (real worker, pipelines, shipping; worker SIGKILL)', () => {
  const scope = e2eScope('recording-e2e');
  const { dataDir } = scope;

  it('records, ships, survives a worker SIGKILL and stops gracefully', { timeout: 240_000 }, async () => {
    const stack = await startE2eServers(dataDir, 'tapedeck-e2e');
    scope.cleanup(() => stack.stop());
    await stack.start();

    // Every worker of the test (restarts included) has the same id, spool and RTP ports.
    const mediaEnv = testMediaWorkerEnv(dataDir, 'media-e2e');
    const rtpBase = Number(mediaEnv.TAPEDECK_RTP_PORTS!.split('-')[0]);
    const workerEnv = async () => ({
      ...testEnv,
      ...stack.clientEnv,
      ...mediaEnv,
      TAPEDECK_WORKER_HTTP_PORT: String(await freePort()),
      TAPEDECK_SHUTDOWN_GRACE_MS: '5000',
    });
    const startWorker = async (n: number) => {
      const w = ManagedProcess.start({
        name: `worker-${n}`,
        command: process.execPath,
        args: [join(PROJECT_ROOT, 'dist', 'apps', 'worker', 'main.js')],
        env: await workerEnv(),
        logFile: join(dataDir, 'logs', `worker-${n}.log`),
      });
      scope.cleanup(() => w.stop(10_000));
      return w;
    };
    const worker1 = await startWorker(1);

    const connection = await Connection.connect({ address: stack.clientEnv.TEMPORAL_ADDRESS! });
    scope.cleanup(() => connection.close());
    const client = new Client({ connection });
    const livestreamId = `e2e-${Date.now()}`;
    // Placement needs the worker's first capacity report in the media registry.
    await waitUntil(
      async () => {
        const workers = await client.workflow.getHandle(MEDIA_REGISTRY_ID).query(mediaWorkersQuery);
        return workers.some((w) => w.workerId === 'media-e2e' && !w.draining);
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the media worker to report its capacity', abort: () => worker1.deathReason() },
    );

    const handle = await client.workflow.start('livestream', {
      taskQueue: 'tapedeck-control',
      workflowId: livestreamWorkflowId(livestreamId),
      args: [
        {
          livestreamId,
          hosts: [{ hostId: 'ada', displayName: 'Ada', video: { codec: 'VP8', payloadType: 96 } }],
          composite: { layout: { kind: 'grid' }, rtmp: [], hls: false },
          individual: true,
          snippetSeconds: SNIPPET_SECONDS,
        },
      ],
    });
    const ready = await handle.executeUpdate(readyUpdate);
    const ada = ready.hosts.find((h) => h.hostId === 'ada')!.ingest;
    assert.ok(ada.video.port >= rtpBase && ada.video.port <= rtpBase + 39, 'ingest port from TAPEDECK_RTP_PORTS');

    const sfu = await sendHost(scope, 'ada', ada);

    const storage = createStorage({ projectId: 'tapedeck-e2e', storageEmulator: new URL(stack.clientEnv.STORAGE_EMULATOR_HOST!), pubsubEmulator: undefined });
    const sequences = async (recording: string) => {
      const [files] = await storage.bucket('tapedeck-e2e').getFiles({ prefix: `livestreams/${livestreamId}/${recording}/` });
      return files.map((f) => Number(f.name.split('/').pop()!.slice(0, 6))).sort((a, b) => a - b);
    };

    await waitUntil(async () => (await sequences('composite')).length >= 2 && (await sequences('host-ada')).length >= 2, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'two shipped snippets per recording',
      abort: () => worker1.deathReason(),
    });
    const beforeKill = { composite: await sequences('composite'), ada: await sequences('host-ada') };

    // SIGKILL the worker process alone: its pipeline hosts see the IPC channel close and
    // finalize their open snippets, which the next worker's shipping picks up.
    process.kill(worker1.pid!, 'SIGKILL');
    await worker1.exited;
    await sleep(2000);
    const worker2 = await startWorker(2);

    // The recording activities time out on their heartbeat and are retried on the same queue.
    await waitUntil(
      async () => {
        const c = await sequences('composite');
        const a = await sequences('host-ada');
        return c.length >= beforeKill.composite.length + 3 && a.length >= beforeKill.ada.length + 3;
      },
      { timeoutMs: 120_000, intervalMs: 1000, what: 'recordings to continue on the new worker', abort: () => worker2.deathReason() },
    );
    const status = (await handle.query(statusQuery)) as LivestreamState;
    assert.equal(status.phase, 'recording');

    // A second host joins the running composite (no restart), and the layout changes.
    const bobJoin = await handle.executeUpdate(hostJoinedUpdate, { args: [{ hostId: 'bob', displayName: 'Bob', video: { codec: 'H264', payloadType: 102 } }] });
    const sfu2 = await sendHost(scope, 'bob', bobJoin.ingest);
    await handle.signal(layoutSignal, { layout: { kind: 'spotlight', spotlightHostId: 'bob' } });
    const compositeWithBob = async () => {
      const [files] = await storage.bucket('tapedeck-e2e').getFiles({ prefix: `livestreams/${livestreamId}/composite/` });
      for (const f of files) {
        const [meta] = await f.getMetadata();
        if (String(meta.metadata?.hosts ?? '').includes('bob')) return true;
      }
      return false;
    };
    await waitUntil(async () => (await compositeWithBob()) && (await sequences('host-bob')).length >= 1, {
      timeoutMs: 60_000,
      intervalMs: 1000,
      what: "bob in the composite's snippets and his own recording shipped",
      abort: () => worker2.deathReason(),
    });

    // A graceful restart (SIGTERM): pipelines finalize their open snippets, the recordings pause
    // and continue on the next worker without waiting for a heartbeat timeout.
    const beforeRestart = await sequences('composite');
    await worker2.stop(30_000);
    assert.equal((await worker2.exited).code, 0, worker2.tail(20));
    const worker3 = await startWorker(3);
    await waitUntil(async () => (await sequences('composite')).length >= beforeRestart.length + 2, {
      timeoutMs: 90_000,
      intervalMs: 1000,
      what: 'the composite to continue after a graceful worker restart',
      abort: () => worker3.deathReason(),
    });

    await handle.signal(stopSignal, { reason: 'e2e over' });
    const summary = (await handle.result()) as LivestreamSummary;
    await sfu.stop();
    await sfu2.stop();

    for (const recording of ['composite', 'host-ada'] as const) {
      const seqs = await sequences(recording);
      const before = recording === 'composite' ? beforeKill.composite : beforeKill.ada;
      assert.equal(new Set(seqs).size, seqs.length, `${recording}: no sequence shipped twice under different names`);
      for (const s of before) assert.ok(seqs.includes(s), `${recording}: snippet ${s} shipped before the kill is still there`);
      // Numbering continued: nothing after the kill reused an earlier number, and at most the
      // snippet open at the kill is missing from the sequence.
      const missing = [];
      for (let s = seqs[0]!; s <= seqs.at(-1)!; s++) if (!seqs.includes(s)) missing.push(s);
      assert.ok(missing.length <= 1, `${recording}: missing sequences ${missing.join(',')} in ${seqs.join(',')}`);
      assert.ok(seqs.at(-1)! > before.at(-1)!, `${recording}: continued after the kill`);
    }
    const composite = summary.recordings.find((r) => r.kind === 'composite')!;
    assert.equal(composite.state, 'finished');
    assert.ok(composite.summary!.restarts >= 1, 'the composite recording was restarted once');
    assert.equal(summary.recordings.filter((r) => r.kind === 'composite').length, 1, 'host join and layout change did not restart the composite');
    const individual = summary.recordings.filter((r) => r.kind === 'individual');
    const finalStatus = (await handle.query(statusQuery).catch(() => undefined)) as LivestreamState | undefined;
    const explain = JSON.stringify({ recordings: summary.recordings.map((r) => ({ id: r.workflowId, state: r.state, warnings: r.summary?.warnings })), notices: finalStatus?.notices }, null, 1);
    // One period per host: cameras never went off, and a worker restart (whose SIGTERM reaches
    // the pipeline processes too) pauses a recording, never finishes it.
    const hostsSeen = [...new Set(individual.map((r) => r.hostId))].sort();
    assert.deepEqual(hostsSeen, ['ada', 'bob'], explain);
    assert.equal(individual.length, 2, explain);
    const bobSeqs = await sequences('host-bob');
    assert.equal(new Set(bobSeqs).size, bobSeqs.length, 'host-bob: no sequence shipped twice');
    assert.ok(bobSeqs.at(-1)! - bobSeqs[0]! + 1 - bobSeqs.length <= 1, `host-bob: numbering continuous (${bobSeqs.join(',')})`);
    for (const r of individual) assert.equal(r.state, 'finished');
    scope.passed();
  });
});
