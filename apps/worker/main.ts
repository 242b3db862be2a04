// Entry point of a Tapedeck worker: control role, media role, or both. Serves GET /healthz with
// its state and task queues and GET /metrics (Prometheus); SIGTERM/SIGINT drain running
// activities (up to the grace time).
import { createServer } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { MediaCapacity } from '../../activities/capacity';
import { startRegistryReporter } from '../../activities/registry-reporter';
import { ShipRegistry } from '../../activities/ship/ship.activity';
import { createClipActivities } from '../../activities/clips/clip.activities';
import { MediaRuntime } from '../../activities/media/media-runtime';
import { PortAllocator } from '../../pipelines/ingest/ports';
import { OPUS_SIZE_CACHE_LIB, opusSizeCacheState } from '../../pipelines/supervisor';
import { createPubSub, createStorage } from '../common/clients';
import { loadOrExit } from '../common/config';
import { processEnv } from '../common/env';
import { createLogger } from '../common/logger';
import { loadWorkerConfig } from './config';
import { WorkerMetrics } from './metrics';
import { createWorkers } from './worker';

async function main(): Promise<void> {
  const config = loadOrExit('tapedeck-worker', () => loadWorkerConfig(processEnv()));
  const logger = createLogger('tapedeck-worker', config.logLevel);
  Runtime.install({
    shutdownSignals: [],
    logger: {
      log: (level, message, meta) => logger[level === 'TRACE' ? 'trace' : (level.toLowerCase() as 'info')]({ ...meta }, message),
      trace: (m, meta) => logger.trace({ ...meta }, m),
      debug: (m, meta) => logger.debug({ ...meta }, m),
      info: (m, meta) => logger.info({ ...meta }, m),
      warn: (m, meta) => logger.warn({ ...meta }, m),
      error: (m, meta) => logger.error({ ...meta }, m),
    },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
  });

  // Shipping talks to Cloud Storage and Pub/Sub itself; its live status is served on /healthz.
  const shipRegistry = new ShipRegistry();
  const cloud = { projectId: config.projectId, storageEmulator: config.storageEmulator, pubsubEmulator: config.pubsubEmulator };
  const storage = createStorage(cloud);
  const pubsub = createPubSub(cloud);

  let state: 'connecting' | 'running' | 'stopping' | 'stopped' = 'connecting';
  let taskQueues: string[] = [];
  // Running recordings are read from the media runtime once it exists.
  const media: { runtime?: MediaRuntime } = {};
  const metrics = new WorkerMetrics({ ships: shipRegistry, runtime: () => media.runtime });
  const http = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      metrics.render().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        },
        (e: Error) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'metrics_failed', message: e.message } }));
        },
      );
      return;
    }
    if (req.method === 'GET' && req.url === '/healthz') {
      const ok = state === 'running';
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: state, workerId: config.workerId, roles: config.roles, taskQueues, shipping: shipRegistry.statuses() }));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'not_found', message: 'no such route' } }));
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.httpPort, config.httpHost, () => resolve());
  });
  const httpAddress = http.address();
  logger.info({ address: typeof httpAddress === 'object' && httpAddress ? `http://${config.httpHost}:${httpAddress.port}` : undefined }, 'worker health endpoint listening');

  const connection = await NativeConnection.connect(config.temporal);
  const clientConnection = await Connection.connect(config.temporal);
  const client = new Client({ connection: clientConnection, namespace: config.temporalNamespace });
  const capacity = new MediaCapacity(config.mediaCapacityCores);
  const runtime = config.roles.includes('media')
    ? new MediaRuntime({
        client,
        allocator: new PortAllocator(config.rtpPorts),
        rtpAddress: config.rtpAddress,
        spoolRoot: config.spoolDir,
        capacity,
        logger,
        heartbeatMs: config.recordHeartbeatMs,
        ...(config.streamKeyCipher ? { streamKeyCipher: config.streamKeyCipher } : {}),
        onStats: metrics.onMediaStats,
        onRecordingEnd: metrics.onRecordingEnd,
        defaults: {
          noMediaWarningMs: config.noMediaWarningMs,
          lossWarningPercent: config.lossWarningPercent,
          stopTimeoutMs: config.stopTimeoutMs,
          compositeVideoKbps: config.compositeVideoKbps,
          individualVideoKbps: config.individualVideoKbps,
          audioKbps: config.audioKbps,
          x264Preset: config.x264Preset,
          hlsSegmentSeconds: config.hlsSegmentSeconds,
          hlsPlaylistLength: config.hlsPlaylistLength,
          rtmpMaxRetries: config.rtmpMaxRetries,
          rtmpsAllowUnknownCa: config.rtmpsAllowUnknownCa,
        },
      })
    : undefined;
  media.runtime = runtime;
  const clips = createClipActivities({
    storage,
    pubsub,
    bucket: config.bucket,
    logger,
    workDir: config.clipWorkDir,
    ...(config.clipWebhookUrl && config.clipWebhookSecret ? { webhook: { url: config.clipWebhookUrl, secret: config.clipWebhookSecret, timeoutMs: config.clipWebhookTimeoutMs } } : {}),
  });
  const running = await createWorkers({
    clips: { taskQueue: config.clipsTaskQueue, activities: clips },
    ...(runtime ? { media: { runtime, spoolRoot: config.spoolDir } } : {}),
    client,
    capacity,
    placementFreshMs: config.placementFreshMs,
    connection,
    namespace: config.temporalNamespace,
    roles: config.roles,
    controlTaskQueue: config.controlTaskQueue,
    mediaTaskQueue: config.mediaTaskQueue,
    identity: `${config.workerId}@${process.pid}`,
    shutdownGraceMs: config.shutdownGraceMs,
    ship: {
      storage,
      pubsub,
      bucket: config.bucket,
      logger,
      registry: shipRegistry,
      onEvent: metrics.onShipEvent,
      heartbeatMs: config.shipHeartbeatMs,
      options: {
        rescanMs: config.shipRescanMs,
        backoffMaxMs: config.shipBackoffMaxMs,
        publishTimeoutMs: config.shipPublishTimeoutMs,
        spoolWarnBytes: config.shipSpoolWarnMb * 1024 * 1024,
        minFreeBytes: config.shipMinFreeMb * 1024 * 1024,
      },
    },
  });
  taskQueues = running.taskQueues;
  const reporter = config.roles.includes('media')
    ? startRegistryReporter({
        client,
        controlTaskQueue: config.controlTaskQueue,
        workerId: config.workerId,
        taskQueue: config.mediaTaskQueue,
        capacity,
        intervalMs: config.mediaReportMs,
        onError: (e) => logger.warn({ err: e }, 'capacity report to the media registry failed'),
      })
    : undefined;
  await reporter?.reportNow().catch((e) => logger.warn({ err: e }, 'first capacity report failed'));
  state = 'running';
  const opusSizeCache = runtime ? opusSizeCacheState(config.opusSizeCache) : undefined;
  if (opusSizeCache === 'missing') logger.warn({ library: OPUS_SIZE_CACHE_LIB }, 'Opus size cache not built (run infra/install.sh): pipeline hosts decode Opus with libopus as installed');
  logger.info({ roles: config.roles, taskQueues, workerId: config.workerId, opusSizeCache }, 'worker running');

  const stop = (signal: string) => {
    if (state === 'stopping' || state === 'stopped') return;
    state = 'stopping';
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'worker draining');
    // Tell placement first, so no new livestream lands here while running work drains.
    // Then pipelines finalize their open snippets (their activities fail retryably, so the
    // recordings continue when this worker is back), and the Temporal workers drain.
    void (reporter?.stop(true) ?? Promise.resolve())
      .then(() => runtime?.shutdown())
      .catch((e) => logger.error({ err: e }, 'media runtime shutdown failed'))
      .finally(() => running.shutdown());
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    await running.run();
  } finally {
    state = 'stopped';
    await connection.close();
    await clientConnection.close();
    await pubsub.close().catch(() => undefined);
    http.close();
    logger.info('worker stopped');
  }
}

main().catch((e) => {
  process.stderr.write(`tapedeck-worker: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
