// Clients for the three external services, built from typed config: the same code talks to the
// local emulators and to real Google Cloud / a Temporal cluster.
import { Storage } from '@google-cloud/storage';
import { PubSub } from '@google-cloud/pubsub';
import { Connection } from '@temporalio/client';
import type { HostPort } from './config';

export interface GoogleCloudConfig {
  projectId: string;
  storageEmulator: URL | undefined;
  pubsubEmulator: HostPort | undefined;
}

export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

export function createStorage(cfg: GoogleCloudConfig, opts: { retries?: boolean } = {}): Storage {
  const retry = opts.retries ?? true;
  return new Storage({
    projectId: cfg.projectId,
    ...(cfg.storageEmulator ? { apiEndpoint: cfg.storageEmulator.origin, useAuthWithCustomEndpoint: false } : {}),
    retryOptions: { autoRetry: retry, maxRetries: retry ? 3 : 0 },
  });
}

export function createPubSub(cfg: GoogleCloudConfig): PubSub {
  if (cfg.pubsubEmulator) {
    // universeDomain given up front: otherwise the auth library probes the GCE metadata server.
    return new PubSub({ projectId: cfg.projectId, apiEndpoint: formatHostPort(cfg.pubsubEmulator), emulatorMode: true, universeDomain: 'googleapis.com' });
  }
  return new PubSub({ projectId: cfg.projectId });
}

/** A lazy connection: created without contacting the server, so a process can start (and report
 *  Temporal as down) while the server is unreachable. */
export function createTemporalConnection(address: HostPort): Connection {
  return Connection.lazy({ address: formatHostPort(address) });
}
