// What end-to-end tests with real processes share: a data folder for their servers' and workers'
// files and logs, cleanups run in reverse order after the suite, the logs kept when a test failed,
// and the environment of a media worker tuned for short tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { MockSfu, type FaultOptions } from '../../apps/mock-sfu/sender';
import type { IngestEndpoints } from '../../workflows/livestream.types';

export interface E2eScope {
  dataDir: string;
  /** Runs after the suite, last registered first. */
  cleanup(fn: () => Promise<unknown> | unknown): void;
  /** The test passed: its data folder may go. */
  passed(): void;
}

/** Call at describe level: registers the `after` hook. */
export function e2eScope(name: string): E2eScope {
  const dataDir = mkdtempSync(join(tmpdir(), `tapedeck-${name}-`));
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  let ok = false;
  after(async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    // Keep the logs of a failed run (workers, servers) for whoever looks into it.
    if (ok) rmSync(dataDir, { recursive: true, force: true });
    else console.log(`${name}: logs kept in ${join(dataDir, 'logs')}`);
  });
  return {
    dataDir,
    cleanup: (fn) => cleanups.push(fn),
    passed: () => {
      ok = true;
    },
  };
}

/** A media worker's settings for tests: its own RTP port range, fast heartbeats and rescans. */
export function testMediaWorkerEnv(dataDir: string, workerId: string): Record<string, string> {
  const rtpBase = 20000 + 2 * Math.floor(Math.random() * 10000);
  return {
    TAPEDECK_WORKER_ID: workerId,
    TAPEDECK_SPOOL_DIR: join(dataDir, 'spool'),
    TAPEDECK_RTP_PORTS: `${rtpBase}-${rtpBase + 39}`,
    TAPEDECK_MEDIA_REPORT_MS: '1000',
    TAPEDECK_RECORD_HEARTBEAT_MS: '1000',
    TAPEDECK_SHIP_RESCAN_MS: '1000',
    TAPEDECK_SHIP_HEARTBEAT_MS: '1000',
    TAPEDECK_STOP_TIMEOUT_MS: '5000',
    TAPEDECK_LOG_LEVEL: 'info',
  };
}

/** A mock SFU sending one host (320x240 at 15 fps, RTCP on the next port) to the ingest endpoints
 *  the livestream handed out, started, and stopped with the scope. */
export async function sendHost(
  scope: Pick<E2eScope, 'cleanup'>,
  hostId: string,
  ingest: IngestEndpoints,
  opts: { colour?: string; faults?: FaultOptions } = {},
): Promise<MockSfu> {
  const sfu = await MockSfu.create({
    hosts: [
      {
        hostId,
        address: ingest.address,
        video: { port: ingest.video.port, payloadType: ingest.video.payloadType, codec: ingest.video.codec as 'VP8' | 'H264' },
        audio: { port: ingest.audio.port, payloadType: ingest.audio.payloadType },
        ...(opts.colour ? { colour: opts.colour } : {}),
      },
    ],
    width: 320,
    height: 240,
    fps: 15,
    rtcp: 'next-port',
    ...(opts.faults ? { faults: opts.faults } : {}),
  });
  scope.cleanup(() => sfu.stop());
  sfu.start();
  return sfu;
}
