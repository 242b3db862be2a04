// The smallest real workflow: it proves a worker is polling the control queue and can reach a
// media worker's queue. Operators use it as a smoke test (`temporal workflow execute --type ping`).
import { proxyActivities } from '@temporalio/workflow';
import type { PingActivities } from '../activities/ping.activity';

export interface PingInput {
  message: string;
  /** When set, the activity runs on this task queue (a media worker's own queue). */
  taskQueue?: string;
}

export interface PingResult {
  echo: string;
  worker: string;
}

export async function ping(input: PingInput): Promise<PingResult> {
  const { ping: pingActivity } = proxyActivities<PingActivities>({
    startToCloseTimeout: '10 seconds',
    retry: { maximumAttempts: 3 },
    ...(input.taskQueue ? { taskQueue: input.taskQueue } : {}),
  });
  return pingActivity(input.message);
}
