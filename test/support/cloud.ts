// The GCS and Pub/Sub emulators on free loopback ports for a test, provisioned like `npm start`,
// with the means to stop one and bring it back on the same port (outage tests).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { createPubSub, createStorage, type GoogleCloudConfig } from '../../apps/common/clients';
import { gcsComponent, pubsubComponent, type ComponentSpec } from '../../infra/stack/components';
import { waitUntil } from '../../infra/stack/net';
import { ManagedProcess } from '../../infra/stack/process';
import { provision } from '../../infra/stack/provision';
import { LocalStack } from '../../infra/stack/stack';
import { testEnv } from './env';
import { freeStackPorts } from './ports';

export const TEST_PROJECT = 'tapedeck-test';
export const TEST_BUCKET = 'tapedeck-test';

export interface TestCloud {
  cloud: GoogleCloudConfig;
  storage: Storage;
  pubsub: PubSub;
  dataDir: string;
  /** Kills the emulator process (SIGTERM, then SIGKILL). */
  stop(name: 'gcs' | 'pubsub'): Promise<void>;
  /** Starts it again on the same port; Pub/Sub is re-provisioned (the emulator forgets topics). */
  restart(name: 'gcs' | 'pubsub'): Promise<void>;
  /** Clients with the library's own retries off, for assertions. */
  close(): Promise<void>;
}

export async function startTestCloud(): Promise<TestCloud> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tapedeck-ship-'));
  const ports = await freeStackPorts();
  const stack = new LocalStack({
    env: testEnv,
    dataDir,
    ports,
    projectId: TEST_PROJECT,
    bucket: TEST_BUCKET,
    pubsubEmulator: 'pstest',
    include: ['pubsub', 'gcs'],
    reuse: false,
    startupTimeoutMs: 60_000,
    stopGraceMs: 5000,
  });
  const cloud: GoogleCloudConfig = {
    projectId: TEST_PROJECT,
    storageEmulator: new URL(`http://127.0.0.1:${ports.gcs}`),
    pubsubEmulator: { host: '127.0.0.1', port: ports.pubsub },
  };
  await stack.start();
  const storage = createStorage(cloud);
  const pubsub = createPubSub(cloud);
  const restarted = new Map<string, ManagedProcess>();
  const spec = (name: 'gcs' | 'pubsub'): ComponentSpec =>
    name === 'gcs' ? gcsComponent(ports, dataDir, testEnv) : pubsubComponent(ports, 'pstest', TEST_PROJECT, testEnv);
  return {
    cloud,
    storage,
    pubsub,
    dataDir,
    async stop(name) {
      const proc = restarted.get(name) ?? stack.components.get(name)?.process;
      await proc?.stop(5000);
      restarted.delete(name);
    },
    async restart(name) {
      const s = spec(name);
      const proc = ManagedProcess.start(s.process(join(dataDir, 'logs')));
      restarted.set(name, proc);
      await waitUntil(() => s.ready(), { timeoutMs: 60_000, what: `${name} did not come back`, abort: () => proc.deathReason() });
      if (name === 'pubsub') {
        const p = createPubSub(cloud);
        try {
          await provision(createStorage(cloud), p, TEST_BUCKET);
        } finally {
          await p.close();
        }
      }
    },
    async close() {
      await pubsub.close().catch(() => undefined);
      for (const proc of restarted.values()) await proc.stop(5000);
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
