// Configuration of `npm start` (the local stack): where each component listens, where data goes.
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../common/config';
import type { Env } from '../common/env';
import { parseApiTokens } from '../common/tokens';
import * as v from '../common/variables';
import type { StackPorts } from '../../infra/stack/components';

export const LOCAL_DEFAULTS = {
  pubsub: { host: '127.0.0.1', port: 8085 },
  gcs: new URL('http://127.0.0.1:4443'),
};

export function loadStackConfig(env: Env, cwd: string) {
  const c = loadConfig(env, {
    temporalAddress: v.TEMPORAL_ADDRESS,
    projectId: v.GOOGLE_CLOUD_PROJECT,
    bucket: v.TAPEDECK_BUCKET,
    storageEmulator: v.STORAGE_EMULATOR_HOST,
    pubsubEmulator: v.PUBSUB_EMULATOR_HOST,
    logLevel: v.TAPEDECK_LOG_LEVEL,
    apiHost: v.TAPEDECK_API_HOST,
    apiPort: v.TAPEDECK_API_PORT,
    workerHttpPort: v.TAPEDECK_WORKER_HTTP_PORT,
    moderatorHttpPort: v.TAPEDECK_MODERATOR_HTTP_PORT,
    dataDir: v.TAPEDECK_DATA_DIR,
    temporalUiPort: v.TAPEDECK_TEMPORAL_UI_PORT,
    pubsubKind: v.TAPEDECK_PUBSUB_EMULATOR,
    startupTimeoutMs: v.TAPEDECK_STARTUP_TIMEOUT_MS,
    reuse: v.TAPEDECK_STACK_REUSE,
  });
  const pubsub = c.pubsubEmulator ?? LOCAL_DEFAULTS.pubsub;
  const gcs = c.storageEmulator ?? LOCAL_DEFAULTS.gcs;
  const host = c.temporalAddress.host;
  const hosts = { TEMPORAL_ADDRESS: host, PUBSUB_EMULATOR_HOST: pubsub.host, STORAGE_EMULATOR_HOST: gcs.hostname, TAPEDECK_API_HOST: c.apiHost };
  const problems = Object.entries(hosts)
    .filter(([, h]) => h !== host)
    .map(([name, h]) => `${name}: the local stack runs every component on one address (${host}), not ${h}`);
  if (gcs.protocol !== 'http:') problems.push(`STORAGE_EMULATOR_HOST: the local GCS emulator speaks http, not ${gcs.protocol}`);
  if (c.workerHttpPort === 0) problems.push('TAPEDECK_WORKER_HTTP_PORT: the local stack needs a fixed port, not 0');
  if (c.moderatorHttpPort === 0) problems.push('TAPEDECK_MODERATOR_HTTP_PORT: the local stack needs a fixed port, not 0');
  if (env.TAPEDECK_API_TOKENS) {
    try {
      parseApiTokens(env.TAPEDECK_API_TOKENS);
    } catch (e) {
      problems.push(`TAPEDECK_API_TOKENS: ${(e as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const ports: StackPorts = {
    host,
    temporal: c.temporalAddress.port,
    temporalUi: c.temporalUiPort,
    pubsub: pubsub.port,
    gcs: Number(gcs.port || 80),
    api: c.apiPort,
    workerHttp: c.workerHttpPort,
    moderatorHttp: c.moderatorHttpPort,
  };
  return Object.freeze({
    ...c,
    ports,
    dataDir: isAbsolute(c.dataDir) ? c.dataDir : resolve(cwd, c.dataDir),
    apiTokens: env.TAPEDECK_API_TOKENS,
  });
}

export type StackConfig = ReturnType<typeof loadStackConfig>;
