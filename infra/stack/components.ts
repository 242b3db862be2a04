// The components of the local stack: how each is started, where it listens, and how we know it
// answers. Pure descriptions; stack.ts runs them.
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { createPubSub } from '../../apps/common/clients';
import type { Env } from '../../apps/common/env';
import type { ProcessSpec } from './process';
import { PROJECT_ROOT, gcloudPubsubEmulator, resolveTool } from './tools';
import { isListening } from './net';

export type ComponentName = 'temporal' | 'pubsub' | 'gcs' | 'api' | 'worker' | 'moderator';

export interface ComponentSpec {
  name: ComponentName;
  host: string;
  port: number;
  /** One line for the terminal: where to reach it. */
  describe(): string;
  /** True once it answers as this kind of server (not merely "something listens"). */
  ready(): Promise<boolean>;
  process(logDir: string): ProcessSpec;
}

export interface StackPorts {
  host: string;
  temporal: number;
  temporalUi: number;
  pubsub: number;
  gcs: number;
  api: number;
  workerHttp: number;
  moderatorHttp: number;
  /** The dev server's HTTP API and metrics ports; unset: it picks free ones itself. */
  temporalHttp?: number;
  temporalMetrics?: number;
}

async function httpOk(url: string, accept: (status: number) => boolean = (s) => s === 200): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return accept(res.status);
}

export function temporalComponent(ports: StackPorts, dataDir: string, env: Env): ComponentSpec {
  const address = `${ports.host}:${ports.temporal}`;
  return {
    name: 'temporal',
    host: ports.host,
    port: ports.temporal,
    describe: () => `grpc ${address}  ui http://${ports.host}:${ports.temporalUi}`,
    async ready() {
      if (!(await isListening(ports.host, ports.temporal))) return false;
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await conn.withDeadline(Date.now() + 1000, () => conn.workflowService.getSystemInfo({}));
        return true;
      } finally {
        await conn.close();
      }
    },
    process: (logDir) => ({
      name: 'temporal',
      command: resolveTool('temporal', env.PATH),
      args: [
        'server', 'start-dev',
        '--ip', ports.host,
        '--port', String(ports.temporal),
        '--ui-port', String(ports.temporalUi),
        ...(ports.temporalHttp ? ['--http-port', String(ports.temporalHttp)] : []),
        ...(ports.temporalMetrics ? ['--metrics-port', String(ports.temporalMetrics)] : []),
        '--db-filename', join(dataDir, 'temporal.sqlite'),
        '--log-level', 'warn',
      ],
      env,
      logFile: join(logDir, 'temporal.log'),
    }),
  };
}

export type PubsubEmulatorKind = 'auto' | 'gcloud' | 'pstest';

export function pubsubComponent(ports: StackPorts, kind: PubsubEmulatorKind, projectId: string, env: Env): ComponentSpec & { emulator: 'gcloud' | 'pstest' } {
  const gcloud = kind === 'pstest' ? undefined : gcloudPubsubEmulator(env.PATH);
  if (kind === 'gcloud' && !gcloud) {
    throw new Error("TAPEDECK_PUBSUB_EMULATOR=gcloud, but the Google Cloud CLI's Pub/Sub emulator (and java) is not installed");
  }
  const emulator = gcloud ? 'gcloud' : 'pstest';
  return {
    name: 'pubsub',
    emulator,
    host: ports.host,
    port: ports.pubsub,
    describe: () => `${ports.host}:${ports.pubsub}  (${emulator === 'gcloud' ? 'Google Cloud CLI emulator' : 'pstest emulator'})`,
    async ready() {
      if (!(await isListening(ports.host, ports.pubsub))) return false;
      const pubsub = createPubSub({ projectId, storageEmulator: undefined, pubsubEmulator: { host: ports.host, port: ports.pubsub } });
      try {
        await pubsub.getTopics({ gaxOpts: { timeout: 1000, retry: null } } as never);
        return true;
      } finally {
        await pubsub.close();
      }
    },
    process: (logDir) =>
      gcloud
        ? {
            name: 'pubsub',
            command: gcloud,
            args: [`--host=${ports.host}`, `--port=${ports.pubsub}`],
            env,
            logFile: join(logDir, 'pubsub.log'),
          }
        : {
            name: 'pubsub',
            command: resolveTool('pubsub-emulator', env.PATH),
            args: ['-host', ports.host, '-port', String(ports.pubsub)],
            env,
            logFile: join(logDir, 'pubsub.log'),
          },
  };
}

export function gcsComponent(ports: StackPorts, dataDir: string, env: Env): ComponentSpec {
  const url = `http://${ports.host}:${ports.gcs}`;
  return {
    name: 'gcs',
    host: ports.host,
    port: ports.gcs,
    describe: () => `${url}  (fake-gcs-server, files in ${join(dataDir, 'gcs')})`,
    ready: () => httpOk(`${url}/storage/v1/b?project=tapedeck-probe`),
    process: (logDir) => ({
      name: 'gcs',
      command: resolveTool('fake-gcs-server', env.PATH),
      args: [
        '-scheme', 'http',
        '-host', ports.host,
        '-port', String(ports.gcs),
        '-backend', 'filesystem',
        '-filesystem-root', join(dataDir, 'gcs'),
        '-public-host', `${ports.host}:${ports.gcs}`,
        '-external-url', url,
        '-log-level', 'warn',
      ],
      env,
      logFile: join(logDir, 'gcs.log'),
    }),
  };
}

/** Environment every Tapedeck process of this stack gets: the contract's variable names. */
export function serviceEnv(ports: StackPorts, projectId: string, bucket: string): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: `${ports.host}:${ports.temporal}`,
    PUBSUB_EMULATOR_HOST: `${ports.host}:${ports.pubsub}`,
    STORAGE_EMULATOR_HOST: `http://${ports.host}:${ports.gcs}`,
    GOOGLE_CLOUD_PROJECT: projectId,
    TAPEDECK_BUCKET: bucket,
  };
}

export function apiComponent(ports: StackPorts, env: Env): ComponentSpec {
  const url = `http://${ports.host}:${ports.api}`;
  return {
    name: 'api',
    host: ports.host,
    port: ports.api,
    describe: () => `${url}  (health ${url}/healthz)`,
    ready: () => httpOk(`${url}/healthz`, (s) => s === 200 || s === 503),
    process: (logDir) => ({
      name: 'api',
      command: process.execPath,
      args: [join(PROJECT_ROOT, 'dist', 'apps', 'api', 'main.js')],
      env: { ...env, TAPEDECK_API_HOST: ports.host, TAPEDECK_API_PORT: String(ports.api) },
      logFile: join(logDir, 'api.log'),
    }),
  };
}

/** The reference moderation scorer; it asks the API for clips with the moderation role's token. */
export function moderatorComponent(ports: StackPorts, env: Env, moderationToken: string | undefined): ComponentSpec {
  const url = `http://${ports.host}:${ports.moderatorHttp}`;
  return {
    name: 'moderator',
    host: ports.host,
    port: ports.moderatorHttp,
    describe: () => `${url}/healthz  (scores recording-snippets → snippet-scores)`,
    ready: () => httpOk(`${url}/healthz`),
    process: (logDir) => ({
      name: 'moderator',
      command: process.execPath,
      args: [join(PROJECT_ROOT, 'dist', 'apps', 'moderator', 'main.js')],
      env: {
        ...env,
        TAPEDECK_MODERATOR_HTTP_HOST: ports.host,
        TAPEDECK_MODERATOR_HTTP_PORT: String(ports.moderatorHttp),
        TAPEDECK_API_URL: `http://${ports.host}:${ports.api}`,
        ...(moderationToken ? { TAPEDECK_API_TOKEN: moderationToken } : {}),
      },
      logFile: join(logDir, 'moderator.log'),
    }),
  };
}

export function workerComponent(ports: StackPorts, env: Env): ComponentSpec {
  const url = `http://${ports.host}:${ports.workerHttp}`;
  return {
    name: 'worker',
    host: ports.host,
    port: ports.workerHttp,
    describe: () => `${url}/healthz  (roles ${env.TAPEDECK_WORKER_ROLES ?? 'control,media'})`,
    ready: () => httpOk(`${url}/healthz`),
    process: (logDir) => ({
      name: 'worker',
      command: process.execPath,
      args: [join(PROJECT_ROOT, 'dist', 'apps', 'worker', 'main.js')],
      env: { ...env, TAPEDECK_WORKER_HTTP_HOST: ports.host, TAPEDECK_WORKER_HTTP_PORT: String(ports.workerHttp) },
      logFile: join(logDir, 'worker.log'),
    }),
  };
}
