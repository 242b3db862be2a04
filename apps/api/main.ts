// Entry point of the Tapedeck API: load config, build clients, serve, stop cleanly on SIGTERM.
import { createPubSub, createStorage, createTemporalConnection } from '../common/clients';
import { loadOrExit } from '../common/config';
import { processEnv } from '../common/env';
import { createLogger } from '../common/logger';
import { createApiApp } from './app';
import { loadApiConfig } from './config';

async function main(): Promise<void> {
  const config = loadOrExit('tapedeck-api', () => loadApiConfig(processEnv()));
  const logger = createLogger('tapedeck-api', config.logLevel);
  const cloud = { projectId: config.projectId, storageEmulator: config.storageEmulator, pubsubEmulator: config.pubsubEmulator };
  const temporal = createTemporalConnection(config.temporal);
  const storage = createStorage(cloud, { retries: false });
  const pubsub = createPubSub(cloud);

  const app = await createApiApp({ config, logger, temporal, storage, pubsub });
  await app.listen(config.port, config.host);
  logger.info({ address: `http://${config.host}:${config.port}`, roles: config.tokens.map((t) => t.role) }, 'api listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'api stopping');
    await app.close();
    await Promise.allSettled([temporal.close(), pubsub.close()]);
    logger.info('api stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((e) => {
  process.stderr.write(`tapedeck-api: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
