// The ingest's part of a media worker's configuration. The worker's config module spreads
// `ingestVariables` into its own schema; tests and tools load it on its own.
import { loadConfig } from '../../apps/common/config';
import type { Env } from '../../apps/common/env';
import { TAPEDECK_RTP_ADDRESS, TAPEDECK_RTP_PORTS } from '../../apps/common/variables';

export const ingestVariables = {
  rtpAddress: TAPEDECK_RTP_ADDRESS,
  rtpPorts: TAPEDECK_RTP_PORTS,
};

export function loadIngestConfig(env: Env) {
  return Object.freeze(loadConfig(env, ingestVariables));
}

export type IngestConfig = ReturnType<typeof loadIngestConfig>;
