// A workflow through the project's own worker on a real Temporal dev server (the temporal CLI).
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWorkers, type RunningWorkers } from '../../apps/worker/worker';
import { mediaTaskQueue } from '../../apps/worker/config';
import { MediaCapacity } from '../../activities/capacity';
import { resolveTool } from '../../infra/stack/tools';
import { testEnv } from '../support/env';

describe('worker on a real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  let workers: RunningWorkers;
  let running: Promise<void>;
  const media = mediaTaskQueue('test-media-1');

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: resolveTool('temporal', testEnv.PATH) },
        ip: '127.0.0.1',
        ui: false,
      },
    });
    workers = await createWorkers({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      roles: ['control', 'media'],
      controlTaskQueue: 'tapedeck-control-test',
      mediaTaskQueue: media,
      identity: 'test-media-1@test',
      shutdownGraceMs: 1000,
      client: env.client,
      placementFreshMs: 30_000,
      capacity: new MediaCapacity(1.6),
    });
    running = workers.run();
  });

  after(async () => {
    workers?.shutdown();
    await running;
    await env?.teardown();
  });

  it('runs the ping workflow on the control queue', async () => {
    const result = await env.client.workflow.execute('ping', {
      taskQueue: 'tapedeck-control-test',
      workflowId: `ping-${Date.now()}`,
      args: [{ message: 'hello' }],
      workflowExecutionTimeout: '30 seconds',
    });
    assert.deepEqual(result, { echo: 'hello (attempt 1)', worker: 'test-media-1@test' });
  });

  it("routes an activity to a media worker's own task queue", async () => {
    const handle = await env.client.workflow.start('ping', {
      taskQueue: 'tapedeck-control-test',
      workflowId: `ping-media-${Date.now()}`,
      args: [{ message: 'to media', taskQueue: media }],
      workflowExecutionTimeout: '30 seconds',
    });
    assert.equal((await handle.result()).echo, 'to media (attempt 1)');
    const history = await handle.fetchHistory();
    const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes);
    assert.equal(scheduled!.activityTaskScheduledEventAttributes!.taskQueue!.name, media);
  });
});
