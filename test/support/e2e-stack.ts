// The servers an end-to-end test runs a real worker against: Temporal dev server, Pub/Sub and GCS
// emulators on free loopback ports, with one project id and bucket. The caller stops it.
import { LocalStack } from '../../infra/stack/stack';
import { testEnv } from './env';
import { freeStackPorts } from './ports';

export async function startE2eServers(dataDir: string, name: string): Promise<LocalStack> {
  const stack = new LocalStack({
    env: testEnv,
    dataDir,
    ports: await freeStackPorts(),
    projectId: name,
    bucket: name,
    pubsubEmulator: 'auto',
    include: ['temporal', 'pubsub', 'gcs'],
    reuse: false,
    startupTimeoutMs: 60_000,
  });
  return stack;
}
