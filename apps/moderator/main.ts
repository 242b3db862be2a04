// `node dist/apps/moderator/main.js`: the reference moderation scorer as its own process (npm start
// runs it as a stack component). GET /healthz answers with its counts; SIGTERM/SIGINT closes the
// subscription (unacked messages are redelivered) and exits 0.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPubSub, createStorage } from '../common/clients';
import { loadOrExit } from '../common/config';
import { processEnv } from '../common/env';
import { createLogger } from '../common/logger';
import { loadModeratorConfig } from './config';
import { Moderator } from './moderator';

async function main(): Promise<void> {
  const config = loadOrExit('tapedeck-moderator', () => loadModeratorConfig(processEnv()));
  const logger = createLogger('tapedeck-moderator', config.logLevel);
  const cloud = { projectId: config.projectId, storageEmulator: config.storageEmulator, pubsubEmulator: config.pubsubEmulator };
  const pubsub = createPubSub(cloud);
  const moderator = new Moderator({
    storage: createStorage(cloud),
    pubsub,
    bucket: config.bucket,
    subscription: config.subscription,
    threshold: config.threshold,
    clipMarginSeconds: config.clipMarginSeconds,
    analysisTimeoutMs: config.analysisTimeoutMs,
    concurrency: config.concurrency,
    api: { url: config.apiUrl.origin, token: config.apiToken },
    logger,
  });
  if (!config.apiToken) logger.warn('TAPEDECK_API_TOKEN is unset: clip requests for flagged snippets will be refused by the API');
  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', subscription: config.subscription, threshold: config.threshold, counts: moderator.counts }));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'route_not_found', message: `no route ${req.url}` } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(config.httpPort, config.host, resolve));
  moderator.start();
  logger.info({ http: (server.address() as AddressInfo).port }, 'moderator up');
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    await moderator.stop();
    await pubsub.close().catch(() => undefined);
    server.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(`tapedeck-moderator: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
