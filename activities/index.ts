// Activities are built from their dependencies, so the worker (and tests) decide what is real.
import type { Client } from '@temporalio/client';
import type { MediaCapacity } from './capacity';
import { createPingActivities } from './ping.activity';
import { createPlacementActivities } from './placement.activity';

export interface ControlDependencies {
  workerIdentity: string;
  client: Client;
  placementFreshMs: number;
}

export interface MediaDependencies {
  workerIdentity: string;
  capacity: MediaCapacity;
}

export function createControlActivities(deps: ControlDependencies) {
  return {
    ...createPingActivities(deps),
    ...createPlacementActivities({ client: deps.client, freshMs: deps.placementFreshMs }),
  };
}

export function createMediaActivities(deps: MediaDependencies) {
  return {
    ...createPingActivities(deps),
    async reserveCapacity(input: { livestreamId: string; estimatedCores: number }): Promise<boolean> {
      return deps.capacity.reserve(input.livestreamId, input.estimatedCores);
    },
    async releaseLivestream(input: { livestreamId: string }): Promise<void> {
      deps.capacity.release(input.livestreamId);
    },
  };
}
