// Echo activity used by the ping workflow: answers with the identity of the worker that ran it.
import { activityInfo } from '@temporalio/activity';

export interface PingActivities {
  ping(message: string): Promise<{ echo: string; worker: string }>;
}

export function createPingActivities(deps: { workerIdentity: string }): PingActivities {
  return {
    async ping(message) {
      return { echo: `${message} (attempt ${activityInfo().attempt})`, worker: deps.workerIdentity };
    },
  };
}
