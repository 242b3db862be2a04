// `npm start`'s program end to end: the whole local stack comes up on free ports, /healthz
// reports every dependency, a second start refuses politely, stopping a dependency shows it as
// down, and SIGINT (Ctrl-C) stops everything cleanly.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isListening, sleep, waitUntil } from '../../infra/stack/net';
import { PROJECT_ROOT } from '../../infra/stack/tools';
import { testEnv } from '../support/env';
import { getJson } from '../support/http';
import { freeStackPorts } from '../support/ports';
import { run, type RunningProcess } from '../support/processes';

const MAIN = join(PROJECT_ROOT, 'dist', 'apps', 'stack', 'main.js');

describe('local stack (npm start)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tapedeck-stack-'));
  let stack: RunningProcess | undefined;

  after(async () => {
    if (stack && stack.child.exitCode === null) {
      stack.child.kill('SIGINT');
      await stack.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('comes up, reports health, and shuts down cleanly on Ctrl-C', { timeout: 240_000 }, async () => {
    const ports = await freeStackPorts();
    const env = {
      ...testEnv,
      TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
      PUBSUB_EMULATOR_HOST: `127.0.0.1:${ports.pubsub}`,
      STORAGE_EMULATOR_HOST: `http://127.0.0.1:${ports.gcs}`,
      TAPEDECK_API_PORT: String(ports.api),
      TAPEDECK_WORKER_HTTP_PORT: String(ports.workerHttp),
      TAPEDECK_MODERATOR_HTTP_PORT: String(ports.moderatorHttp),
      TAPEDECK_TEMPORAL_UI_PORT: String(ports.temporalUi),
      TAPEDECK_DATA_DIR: dataDir,
      TAPEDECK_API_TOKENS: undefined,
    };
    const started = Date.now();
    stack = run(process.execPath, [MAIN, '--no-demo'], env);
    await stack.waitForLine(/all components up/, 180_000);
    console.log(`stack up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const out = stack.output();
    for (const name of ['temporal', 'pubsub', 'gcs', 'api', 'worker', 'moderator']) {
      assert.match(out, new RegExp(`\\[tapedeck\\] ${name}\\s+up\\s+\\S`), `a line for ${name}`);
    }
    assert.match(out, new RegExp(`Temporal UI\\s+http://127.0.0.1:${ports.temporalUi}`));
    assert.match(out, /livestream-service\s+dev-livestream-service-[0-9a-f]{24}/, 'dev tokens printed when unset');

    const api = `http://127.0.0.1:${ports.api}`;
    const healthy = await getJson(`${api}/healthz`);
    assert.equal(healthy.status, 200, JSON.stringify(healthy.body));
    assert.equal(healthy.body.status, 'ok');
    for (const dep of ['temporal', 'gcs', 'pubsub']) assert.equal(healthy.body.dependencies[dep].status, 'up', dep);

    const worker = await getJson(`http://127.0.0.1:${ports.workerHttp}/healthz`);
    assert.equal(worker.status, 200);
    assert.deepEqual(worker.body.roles, ['control', 'media']);

    // The Temporal UI answers where the stack says it does.
    assert.equal((await fetch(`http://127.0.0.1:${ports.temporalUi}/`)).status, 200);

    // A second start on the same ports and data folder says what is running and does not fight.
    const second = run(process.execPath, [MAIN, '--no-demo'], env);
    const secondExit = await second.exited;
    assert.equal(secondExit.code, 1);
    assert.match(second.output(), /already running \(pid \d+/);
    assert.match(second.output(), new RegExp(`temporal\\s+grpc 127.0.0.1:${ports.temporal}`));

    // Stop dependencies one at a time: /healthz names exactly the ones that are down.
    const state = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as { components: Array<{ name: string; pid: number }> };
    const pidOf = (name: string) => state.components.find((c) => c.name === name)!.pid;
    const down = new Set<string>();
    for (const dep of ['gcs', 'pubsub', 'temporal']) {
      process.kill(-pidOf(dep), 'SIGKILL');
      down.add(dep);
      await waitUntil(async () => !(await isListening('127.0.0.1', dep === 'gcs' ? ports.gcs : dep === 'pubsub' ? ports.pubsub : ports.temporal)), {
        timeoutMs: 10_000,
        what: `${dep} to stop listening`,
      });
      const report = await getJson(`${api}/healthz`);
      assert.equal(report.status, 503);
      assert.equal(report.body.status, 'degraded');
      for (const d of ['temporal', 'gcs', 'pubsub']) {
        assert.equal(report.body.dependencies[d].status, down.has(d) ? 'down' : 'up', `${d} after stopping ${[...down].join(', ')}: ${JSON.stringify(report.body)}`);
      }
    }
    assert.match(stack.output(), /gcs exited unexpectedly/);

    // Ctrl-C: everything the command started stops, and the ports are free again.
    stack.child.kill('SIGINT');
    const exit = await stack.exited;
    assert.equal(exit.code, 0, stack.output());
    assert.match(stack.output(), /\[tapedeck\] stopped/);
    await sleep(200);
    for (const port of [ports.api, ports.workerHttp, ports.moderatorHttp, ports.temporal, ports.temporalUi, ports.pubsub, ports.gcs]) {
      assert.equal(await isListening('127.0.0.1', port), false, `port ${port} is free after stop`);
    }
  });
});
