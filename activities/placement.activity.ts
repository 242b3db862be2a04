// Control-role activity: the media workers that can take a new livestream, from the media
// registry's latest reports, most free capacity first.
import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { MEDIA_REGISTRY_ID, mediaWorkersQuery, type MediaWorkerReport } from '../workflows/media-registry.workflow';
import type { MediaCandidate, PlaceInput } from './contracts';

export interface PlacementDeps {
  client: Client;
  /** A report older than this means the worker is gone. */
  freshMs: number;
  now?: () => number;
}

export function createPlacementActivities(deps: PlacementDeps) {
  const now = deps.now ?? Date.now;
  return {
    async listMediaCandidates(input: PlaceInput): Promise<MediaCandidate[]> {
      let reports: MediaWorkerReport[];
      try {
        reports = await deps.client.workflow.getHandle(MEDIA_REGISTRY_ID).query(mediaWorkersQuery);
      } catch (e) {
        if ((e as Error).name === 'WorkflowNotFoundError') reports = [];
        else throw e;
      }
      const fresh = reports.filter((r) => !r.draining && now() - Date.parse(r.reportedAt) < deps.freshMs);
      const candidates = fresh
        .map((r) => ({ workerId: r.workerId, taskQueue: r.taskQueue, freeCores: Math.round((r.capacityCores - r.usedCores) * 1000) / 1000 }))
        .filter((c) => c.freeCores >= input.estimatedCores)
        .sort((a, b) => b.freeCores - a.freeCores || a.workerId.localeCompare(b.workerId));
      if (candidates.length === 0) {
        const most = fresh.reduce((m, r) => Math.max(m, r.capacityCores - r.usedCores), 0);
        throw ApplicationFailure.create({
          type: 'CapacityExhausted',
          nonRetryable: true,
          message:
            fresh.length === 0
              ? 'no media worker is available (none has reported in the last ' + Math.round(deps.freshMs / 1000) + ' s)'
              : `all ${fresh.length} media workers are full: livestream ${input.livestreamId} needs ${input.estimatedCores} cores, the most free is ${most.toFixed(2)}`,
        });
      }
      return candidates;
    },
  };
}
