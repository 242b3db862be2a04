// Dependency probes for /healthz: each answers up or down within a deadline, never throws.
import type { Storage } from '@google-cloud/storage';
import type { PubSub } from '@google-cloud/pubsub';
import type { Connection } from '@temporalio/client';

export type DependencyName = 'temporal' | 'gcs' | 'pubsub';

export interface DependencyHealth {
  status: 'up' | 'down';
  latencyMs: number;
  detail?: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  dependencies: Record<DependencyName, DependencyHealth>;
}

export type Probe = () => Promise<string | void>;

export async function probe(run: Probe, timeoutMs: number): Promise<DependencyHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const detail = await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'up', latencyMs: Math.round(performance.now() - started), ...(detail ? { detail } : {}) };
  } catch (e) {
    return { status: 'down', latencyMs: Math.round(performance.now() - started), detail: errorText(e) };
  } finally {
    clearTimeout(timer);
  }
}

function errorText(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0]!.slice(0, 300);
}

export function temporalProbe(connection: Connection, timeoutMs: number): Probe {
  return async () => {
    await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
  };
}

export function gcsProbe(storage: Storage, bucket: string): Probe {
  return async () => {
    const [exists] = await storage.bucket(bucket).exists();
    if (!exists) throw new Error(`bucket "${bucket}" does not exist`);
  };
}

export function pubsubProbe(pubsub: PubSub, topic: string, timeoutMs: number): Probe {
  return async () => {
    try {
      await pubsub.topic(topic).getMetadata({ timeout: timeoutMs, retry: null } as never);
    } catch (e) {
      if ((e as { code?: number }).code === 5) throw new Error(`topic "${topic}" does not exist`);
      throw e;
    }
  };
}

export async function checkAll(probes: Record<DependencyName, Probe>, timeoutMs: number): Promise<HealthReport> {
  const names = Object.keys(probes) as DependencyName[];
  const results = await Promise.all(names.map((n) => probe(probes[n], timeoutMs)));
  const dependencies = Object.fromEntries(names.map((n, i) => [n, results[i]])) as Record<DependencyName, DependencyHealth>;
  return { status: results.every((r) => r.status === 'up') ? 'ok' : 'degraded', dependencies };
}
