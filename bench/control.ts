// bench:control — how many concurrent livestream workflows one worker and the Temporal dev server
// sustain with camera-toggle traffic, and the signal-to-effect latency (camera signal sent → the
// individual recording's record activity running, which is after the child workflow started).
// The media role is faked out (test/support/fake-media.ts): this measures the control plane.
//
//   npm run bench:control -- --livestreams 500 --hosts 1 --toggle-every 5 --duration 60
import { performance } from 'node:perf_hooks';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWorkers } from '../apps/worker/worker';
import { MediaCapacity } from '../activities/capacity';
import { startRegistryReporter } from '../activities/registry-reporter';
import { resolveTool } from '../infra/stack/tools';
import { cameraSignal, readyUpdate, stopSignal } from '../workflows/contract';
import { livestreamWorkflowId, individualWorkflowId } from '../workflows/livestream.types';
import { processEnv } from '../apps/common/env';
import { FakeMedia } from '../test/support/fake-media';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function main() {
  const livestreams = arg('livestreams', 500);
  const hostsPer = arg('hosts', 1);
  const toggleEvery = arg('toggle-every', 5);
  const duration = arg('duration', 60);
  const env0 = processEnv();
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const stage = (m: string) => process.stderr.write(`[bench:control] ${m}\n`);
  stage('starting the Temporal dev server');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: resolveTool('temporal', env0.PATH) },
      ip: '127.0.0.1',
      ui: false,
      extraArgs: ['--dynamic-config-value', 'frontend.rps=100000', '--dynamic-config-value', 'frontend.namespaceRPS=100000'],
    },
  });
  stage('dev server up; starting the worker');
  const media = new FakeMedia();
  const capacity = new MediaCapacity(1e9);
  const workers = await createWorkers({
    connection: env.nativeConnection,
    namespace: 'default',
    roles: ['control', 'media'],
    controlTaskQueue: 'bench-control',
    mediaTaskQueue: 'bench-media',
    identity: 'bench',
    shutdownGraceMs: 1000,
    client: env.client,
    placementFreshMs: 600_000,
    capacity,
    mediaActivities: media.activities(),
    maxConcurrentActivities: 100_000,
  });
  const running = workers.run();
  const reporter = startRegistryReporter({ client: env.client, controlTaskQueue: 'bench-control', workerId: 'bench', taskQueue: 'bench-media', capacity, intervalMs: 60_000 });
  await reporter.reportNow();

  stage('worker up; starting livestreams');
  const started = performance.now();
  const handles = [];
  for (let i = 0; i < livestreams; i++) {
    const livestreamId = `bench-${i}`;
    const hosts = Array.from({ length: hostsPer }, (_, h) => ({ hostId: `h${h}`, camera: false, microphone: false }));
    handles.push(
      env.client.workflow.start('livestream', {
        taskQueue: 'bench-control',
        workflowId: livestreamWorkflowId(livestreamId),
        args: [{ livestreamId, hosts, composite: { layout: { kind: 'grid' }, rtmp: [], hls: false }, individual: true, snippetSeconds: 15 }],
      }),
    );
  }
  const all = await Promise.all(handles);
  await Promise.all(all.map((h) => h.executeUpdate(readyUpdate)));
  const startSeconds = (performance.now() - started) / 1000;
  console.log(`started ${livestreams} livestreams (${hostsPer} host(s) each) and placed them in ${startSeconds.toFixed(1)} s`);

  // Camera toggles: every livestream flips host h0's camera every `toggleEvery` seconds, spread
  // evenly. Each "on" starts a new individual recording period; latency = send → record running.
  const latencies: number[] = [];
  const sentAt = new Map<string, number>();
  const periods = new Map<string, number>();
  const camera = new Map<string, boolean>();
  const deadline = Date.now() + duration * 1000;
  let signals = 0;
  let failures = 0;
  const seen = new Set<string>();

  const tick = async (i: number) => {
    const livestreamId = `bench-${i}`;
    const on = !(camera.get(livestreamId) ?? false);
    camera.set(livestreamId, on);
    if (on) {
      const period = (periods.get(livestreamId) ?? 0) + 1;
      periods.set(livestreamId, period);
      sentAt.set(individualWorkflowId(livestreamId, 'h0', period), performance.now());
    }
    try {
      await all[i]!.signal(cameraSignal, { hostId: 'h0', on });
      signals++;
    } catch {
      failures++;
    }
  };
  const timers: NodeJS.Timeout[] = [];
  for (let i = 0; i < livestreams; i++) {
    const offset = (i / livestreams) * toggleEvery * 1000;
    timers.push(
      setTimeout(() => {
        void tick(i);
        timers.push(setInterval(() => void tick(i), toggleEvery * 1000));
      }, offset),
    );
  }
  const cpuBefore = process.cpuUsage();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    for (const [wfId, runAt] of media.recordStartedAt) {
      if (seen.has(wfId)) continue;
      const sent = sentAt.get(wfId);
      if (sent !== undefined) {
        latencies.push(runAt - sent);
        seen.add(wfId);
      }
    }
  }
  for (const t of timers) clearInterval(t);
  const cpu = process.cpuUsage(cpuBefore);
  const unanswered = [...sentAt.keys()].filter((k) => !seen.has(k)).length;

  console.log(
    JSON.stringify(
      {
        livestreams,
        hostsPerLivestream: hostsPer,
        toggleEverySeconds: toggleEvery,
        durationSeconds: duration,
        signalsSent: signals,
        signalFailures: failures,
        cameraOnEffects: latencies.length,
        notYetEffectiveAtEnd: unanswered,
        signalToEffectMs: { p50: Math.round(pct(latencies, 50)), p95: Math.round(pct(latencies, 95)), max: Math.round(Math.max(...latencies)) },
        benchProcessCpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10,
      },
      null,
      2,
    ),
  );

  await Promise.all(all.map((h) => h.signal(stopSignal, { reason: 'bench over' }).catch(() => undefined)));
  workers.shutdown();
  await running.catch(() => undefined);
  await env.teardown();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
