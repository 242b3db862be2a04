// Activities are built from their dependencies, so the worker (and tests) decide what is real.
import type { Client } from '@temporalio/client';
import type { MediaCapacity } from './capacity';
import { createPingActivities } from './ping.activity';
import { createPlacementActivities } from './placement.activity';
import { createShipActivities, type ShipActivityDeps } from './ship/ship.activity';
import { createRecordingActivities } from './media/media.activities';
import type { MediaRuntime } from './media/media-runtime';

export interface ControlDependencies {
  workerIdentity: string;
  client: Client;
  placementFreshMs: number;
}

export interface MediaDependencies {
  workerIdentity: string;
  capacity: MediaCapacity;
  /** Cloud Storage, Pub/Sub and options for shipRecording; without it the activity is not offered. */
  ship?: ShipActivityDeps;
  /** Ingest and recordings of this worker; with it the workflows' media activities are offered. */
  media?: { runtime: MediaRuntime; spoolRoot: string };
}

export function createControlActivities(deps: ControlDependencies) {
  return {
    ...createPingActivities(deps),
    ...createPlacementActivities({ client: deps.client, freshMs: deps.placementFreshMs }),
  };
}

export function createMediaActivities(deps: MediaDependencies) {
  const ship = deps.ship ? createShipActivities(deps.ship) : undefined;
  return {
    ...createPingActivities(deps),
    async reserveCapacity(input: { livestreamId: string; estimatedCores: number }): Promise<boolean> {
      return deps.capacity.reserve(input.livestreamId, input.estimatedCores);
    },
    async releaseLivestream(input: { livestreamId: string }): Promise<void> {
      deps.capacity.release(input.livestreamId);
    },
    ...(deps.media ? createRecordingActivities(deps.media.runtime, deps.media.spoolRoot, ship) : (ship ?? {})),
  };
}
