// Free loopback ports for a whole stack, so tests never collide with `npm start` or each other.
import { freeLowPort } from '../../infra/stack/net';
import type { StackPorts } from '../../infra/stack/components';

export async function freeStackPorts(): Promise<StackPorts> {
  // Below the ephemeral range, and every dev server port given: nothing in the stack picks its own.
  const ports = new Set<number>();
  while (ports.size < 9) ports.add(await freeLowPort('127.0.0.1', ports));
  const [temporal, temporalUi, pubsub, gcs, api, workerHttp, moderatorHttp, temporalHttp, temporalMetrics] = [...ports] as [number, number, number, number, number, number, number, number, number];
  return { host: '127.0.0.1', temporal, temporalUi, pubsub, gcs, api, workerHttp, moderatorHttp, temporalHttp, temporalMetrics };
}
