// Activities are built from their dependencies, so the worker (and tests) decide what is real.
import { createPingActivities } from './ping.activity';
import { createShipActivities, type ShipActivityDeps } from './ship/ship.activity';

export interface ActivityDependencies {
  workerIdentity: string;
}

export interface MediaActivityDependencies extends ActivityDependencies {
  /** Cloud Storage, Pub/Sub and options for shipRecording; without it the activity is not offered. */
  ship?: ShipActivityDeps;
}

export function createControlActivities(deps: ActivityDependencies) {
  return { ...createPingActivities(deps) };
}

export function createMediaActivities(deps: MediaActivityDependencies) {
  return { ...createPingActivities(deps), ...(deps.ship ? createShipActivities(deps.ship) : {}) };
}
