// Runs one recording through the real supervisor and pipeline host in a test: configs with short
// snippets in a temporary spool folder, and every event the host sent, for assertions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompositeRecordingConfig, HostMedia, IndividualRecordingConfig } from '../../pipelines/config';
import type { HostEvent } from '../../pipelines/protocol';
import { PipelineSupervisor } from '../../pipelines/supervisor';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function tempSpool(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `tapedeck-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function hostMedia(hostId: string, codec: 'VP8' | 'H264' = 'VP8', extra: Partial<HostMedia> = {}): HostMedia {
  return { hostId, displayName: `Host ${hostId}`, video: { codec, payloadType: 96 }, audio: { codec: 'OPUS', payloadType: 111 }, camera: true, microphone: true, ...extra };
}

export function individualConfig(spoolDir: string, host: HostMedia, variant: 'av' | 'audio', extra: Partial<IndividualRecordingConfig> = {}): IndividualRecordingConfig {
  return {
    kind: 'individual',
    livestreamId: 'ls-test',
    recordingId: `host-${host.hostId}-1`,
    spoolDir,
    snippetSeconds: 2,
    startSequence: 0,
    audioBitrateKbps: 64,
    noMediaWarningMs: 5000,
    stopTimeoutMs: 8000,
    statsIntervalMs: 1000,
    hostId: host.hostId,
    variant,
    host,
    videoBitrateKbps: 1000,
    ...extra,
  };
}

export function compositeConfig(spoolDir: string, hosts: HostMedia[], extra: Partial<CompositeRecordingConfig> = {}): CompositeRecordingConfig {
  return {
    kind: 'composite',
    livestreamId: 'ls-test',
    recordingId: 'composite',
    spoolDir,
    snippetSeconds: 3,
    startSequence: 0,
    audioBitrateKbps: 44,
    noMediaWarningMs: 5000,
    stopTimeoutMs: 8000,
    statsIntervalMs: 1000,
    width: 640,
    height: 360,
    fps: 15,
    videoBitrateKbps: 5000,
    x264Preset: 'ultrafast',
    layout: { kind: 'grid' },
    hosts,
    ...extra,
  };
}

/** A supervisor that records every event; `kill()` in cleanup never leaves a host behind. */
export function recorder(): { sup: PipelineSupervisor; events: HostEvent[]; closed: () => Extract<HostEvent, { type: 'fragment-closed' }>[] } {
  const sup = new PipelineSupervisor({ stdio: 'ignore' });
  const events: HostEvent[] = [];
  sup.on('event', (e) => {
    if (e.type !== 'pong') events.push(e);
  });
  return {
    sup,
    events,
    closed: () => events.filter((e): e is Extract<HostEvent, { type: 'fragment-closed' }> => e.type === 'fragment-closed'),
  };
}
