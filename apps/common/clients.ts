// Clients for the three external services, built from typed config: the same code talks to the
// local emulators and to real Google Cloud / a Temporal cluster.
import { Storage } from '@google-cloud/storage';
import { PubSub } from '@google-cloud/pubsub';
import { readFileSync } from 'node:fs';
import { Connection, type TLSConfig } from '@temporalio/client';
import { ConfigError, type HostPort } from './config';

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

export interface TemporalConnectionConfig {
  temporalAddress: HostPort;
  temporalTls: boolean;
  temporalTlsCert?: string | undefined;
  temporalTlsKey?: string | undefined;
  temporalTlsCa?: string | undefined;
  temporalTlsServerName?: string | undefined;
  temporalApiKey?: string | undefined;
}

/** What both the client's and the worker's connections take. */
export interface TemporalConnectOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

/**
 * Connection options for a Temporal cluster: plain (the local dev server), TLS with the system's
 * roots or a given CA, mTLS with a client certificate, and/or an API key. The PEM files are read
 * here, once, so a missing or malformed one stops the process at start-up naming its variable.
 */
export function temporalConnectOptions(c: TemporalConnectionConfig, read: (path: string) => Buffer = readFileSync): TemporalConnectOptions {
  const problems: string[] = [];
  const pem = (name: string, path: string | undefined, kind: RegExp): Buffer | undefined => {
    if (path === undefined) return undefined;
    let data: Buffer;
    try {
      data = read(path);
    } catch (err) {
      problems.push(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      return undefined;
    }
    if (!kind.test(data.toString('latin1'))) problems.push(`${name}: ${path} is not a PEM file of the expected kind`);
    return data;
  };
  if ((c.temporalTlsCert === undefined) !== (c.temporalTlsKey === undefined)) {
    problems.push('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: an mTLS client needs both, or neither');
  }
  const crt = pem('TEMPORAL_TLS_CERT', c.temporalTlsCert, /-----BEGIN CERTIFICATE-----/);
  const key = pem('TEMPORAL_TLS_KEY', c.temporalTlsKey, /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  const ca = pem('TEMPORAL_TLS_CA', c.temporalTlsCa, /-----BEGIN CERTIFICATE-----/);
  if (problems.length > 0) throw new ConfigError(problems);
  const address = formatHostPort(c.temporalAddress);
  const useTls = c.temporalTls || crt !== undefined || ca !== undefined || c.temporalApiKey !== undefined || c.temporalTlsServerName !== undefined;
  if (!useTls) return { address };
  const tls: TLSConfig = {
    ...(c.temporalTlsServerName ? { serverNameOverride: c.temporalTlsServerName } : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
  };
  return { address, tls, ...(c.temporalApiKey ? { apiKey: c.temporalApiKey } : {}) };
}

/** A lazy connection: created without contacting the server, so a process can start (and report
 *  Temporal as down) while the server is unreachable. */
export function createTemporalConnection(options: TemporalConnectOptions): Connection {
  return Connection.lazy(options);
}
