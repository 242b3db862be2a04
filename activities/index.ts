// Activities are built from their dependencies, so the worker (and tests) decide what is real.
import { createPingActivities } from './ping.activity';

export interface ActivityDependencies {
  workerIdentity: string;
}

export function createControlActivities(deps: ActivityDependencies) {
  return { ...createPingActivities(deps) };
}

export function createMediaActivities(deps: ActivityDependencies) {
  return { ...createPingActivities(deps) };
}
