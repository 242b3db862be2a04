// Free loopback ports for a whole stack, so tests never collide with `npm start` or each other.
import { freePort } from '../../infra/stack/net';
import type { StackPorts } from '../../infra/stack/components';

export async function freeStackPorts(): Promise<StackPorts> {
  const ports = new Set<number>();
  while (ports.size < 7) ports.add(await freePort());
  const [temporal, temporalUi, pubsub, gcs, api, workerHttp, moderatorHttp] = [...ports] as [number, number, number, number, number, number, number];
  return { host: '127.0.0.1', temporal, temporalUi, pubsub, gcs, api, workerHttp, moderatorHttp };
}
