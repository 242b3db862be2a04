// The shipRecording activity on a real Temporal dev server with the real emulators: it
// heartbeats progress, resumes from its heartbeat on a new worker after the first one stops
// mid-recording, completes when the recording is marked finished and the spool is drained, and
// stops on cancellation leaving unshipped snippets in the spool.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { createShipActivities, type ShipHeartbeat, type ShipRecordingResult } from '../../activities/ship/ship.activity';
import type { ShipEvent } from '../../activities/ship/shipper';
import { createLogger } from '../../apps/common/logger';
import { resolveTool } from '../../infra/stack/tools';
import { FINISHED_MARKER_FILE } from '../../pipelines/spool';
import { startTestCloud, TEST_BUCKET, type TestCloud } from '../support/cloud';
import { testEnv } from '../support/env';
import { writeSnippet } from '../support/snippets';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TASK_QUEUE = 'tapedeck-media-ship-test';

async function heartbeat(handle: WorkflowHandle): Promise<ShipHeartbeat | undefined> {
  const d = await handle.describe();
  const payload = d.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0]?.data;
  return payload ? (JSON.parse(Buffer.from(payload).toString()) as ShipHeartbeat) : undefined;
}

async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await sleep(200);
  }
}

describe('shipRecording activity on a real Temporal dev server', { timeout: 300_000 }, () => {
  let env: TestWorkflowEnvironment;
  let cloud: TestCloud;
  let spoolRoot: string;
  const logger = createLogger('ship-activity-test', 'silent');

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    cloud = await startTestCloud();
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: resolveTool('temporal', testEnv.PATH) }, ip: '127.0.0.1', ui: false },
    });
    spoolRoot = mkdtempSync(join(tmpdir(), 'tapedeck-ship-activity-'));
  });

  after(async () => {
    await env?.teardown();
    await cloud?.close();
    if (spoolRoot) rmSync(spoolRoot, { recursive: true, force: true });
  });

  const startWorker = async (events: ShipEvent[]) => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: require.resolve('../support/ship-workflows'),
      activities: createShipActivities({
        storage: cloud.storage,
        pubsub: cloud.pubsub,
        bucket: TEST_BUCKET,
        logger,
        heartbeatMs: 300,
        options: { rescanMs: 300, backoffInitialMs: 200, backoffMaxMs: 2000 },
        onEvent: (e) => events.push(e),
      }),
      shutdownGraceTime: '100 milliseconds',
    });
    return { worker, running: worker.run() };
  };

  it('heartbeats, resumes on a new worker from its heartbeat, completes when finished and drained', async () => {
    const ls = 'activity-resume';
    const spoolDir = join(spoolRoot, ls, 'composite');
    const first: ShipEvent[] = [];
    const w1 = await startWorker(first);
    const handle = await env.client.workflow.start('shipRecordingTest', {
      taskQueue: TASK_QUEUE,
      workflowId: `ship-${ls}-${Date.now()}`,
      args: [{ livestreamId: ls, recordingId: 'composite', spoolDir }],
    });
    for (let i = 0; i < 5; i++) await writeSnippet(spoolDir, { livestreamId: ls, recordingId: 'composite', sequence: i });
    const beat = await until(() => heartbeat(handle), (h) => h?.lastShippedSequence === 4, 60_000, 'a heartbeat with sequence 4 shipped');
    assert.equal(beat!.shipped, 5);
    assert.equal(beat!.backlog.count, 0);
    assert.equal(beat!.latency.closeToAck.count, 5);
    assert.equal(beat!.state, 'running');

    // The media worker goes away mid-recording (deploy, crash); snippets keep closing.
    w1.worker.shutdown();
    await w1.running;
    for (let i = 5; i < 10; i++) await writeSnippet(spoolDir, { livestreamId: ls, recordingId: 'composite', sequence: i });
    const second: ShipEvent[] = [];
    const w2 = await startWorker(second);
    try {
      writeFileSync(join(spoolDir, 'finished.tmp'), JSON.stringify({ finishedAt: new Date().toISOString(), lastSequence: 9 }));
      renameSync(join(spoolDir, 'finished.tmp'), join(spoolDir, FINISHED_MARKER_FILE));
      const result = (await handle.result()) as ShipRecordingResult;
      assert.equal(result.lastShippedSequence, 9);
      assert.equal(result.shipped, 10, 'the counters continue from the first attempt heartbeat');
      assert.equal(result.latency.closeToAck.count, 10);
      assert.deepEqual(result.warnings, []);
      assert.deepEqual(first.flatMap((e) => (e.type === 'shipped' ? [e.sequence] : [])), [0, 1, 2, 3, 4]);
      assert.deepEqual(second.flatMap((e) => (e.type === 'shipped' ? [e.sequence] : [])), [5, 6, 7, 8, 9], 'the new worker resumed where the first stopped');
      const history = await handle.fetchHistory();
      const started = history.events!.find((e) => e.activityTaskStartedEventAttributes);
      assert.ok((started!.activityTaskStartedEventAttributes!.attempt ?? 1) >= 2, 'ran as a retry');
      const [files] = await cloud.storage.bucket(TEST_BUCKET).getFiles({ prefix: `livestreams/${ls}/` });
      assert.equal(files.length, 10);
    } finally {
      w2.worker.shutdown();
      await w2.running;
    }
  });

  it('stops on cancellation: the snippet in flight finishes, later ones stay in the spool', async () => {
    const ls = 'activity-cancel';
    const spoolDir = join(spoolRoot, ls, 'composite');
    const events: ShipEvent[] = [];
    const w = await startWorker(events);
    try {
      const handle = await env.client.workflow.start('shipRecordingTest', {
        taskQueue: TASK_QUEUE,
        workflowId: `ship-${ls}-${Date.now()}`,
        args: [{ livestreamId: ls, recordingId: 'composite', spoolDir }],
      });
      for (let i = 0; i < 2; i++) await writeSnippet(spoolDir, { livestreamId: ls, recordingId: 'composite', sequence: i });
      await until(() => heartbeat(handle), (h) => h?.lastShippedSequence === 1, 60_000, 'two snippets shipped');
      await handle.cancel();
      await assert.rejects(handle.result(), /cancel/i);
      await sleep(500);
      await writeSnippet(spoolDir, { livestreamId: ls, recordingId: 'composite', sequence: 2 });
      await sleep(1500);
      assert.ok(existsSync(join(spoolDir, '000002.mp4')) && existsSync(join(spoolDir, '000002.json')), 'nothing ships after cancellation');
      assert.deepEqual(events.flatMap((e) => (e.type === 'shipped' ? [e.sequence] : [])), [0, 1]);
    } finally {
      w.worker.shutdown();
      await w.running;
    }
  });
});
