// RTMP over TLS (rtmps://), end to end with real parts: mock SFU → MediaSession → composite →
// the host's RTMP publisher → TLS (nginx's stream module, a certificate made here with openssl) → nginx-rtmp.
// The certificate's CA is one this machine does not trust, as a private ingest's would be:
//  - by default the destination is refused on its certificate and reported failed with the reason;
//  - with TAPEDECK_RTMPS_ALLOW_UNKNOWN_CA (the recording's `rtmpsAllowUnknownCa`) it streams over
//    TLS and the server records 640x360 H.264 + AAC, while a server whose certificate names
//    another host is still refused: only the CA check is dropped.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { OutputStatus } from '../../pipelines/outputs/outputs';
import type { HostEvent } from '../../pipelines/protocol';
import { RtmpServer } from '../../infra/stack/rtmp-server';
import { LiveSession, type LiveRecording } from '../support/live-session';
import { decodeErrors, probe } from '../support/media';
import { compositeConfig, hostMedia, sleep } from '../support/recording';

const unavailable = RtmpServer.tlsAvailable();
const servers: RtmpServer[] = [];
let live: LiveSession | undefined;
const certDir = mkdtempSync(join(tmpdir(), 'tapedeck-rtmps-cert-'));
after(async () => {
  await live?.cleanup();
  for (const s of servers) await s.stop();
  rmSync(certDir, { recursive: true, force: true });
});

const KEY_REFUSED = 'secretkeyR3c5';
const KEY_TLS = 'secretkeyT8a1';
const KEY_WRONG_NAME = 'secretkeyW6b2';
/** How long the stream over TLS runs once connected. */
const STREAM_MS = 6000;

/** A self-signed certificate (its own, unknown CA) for `subjectAltName`. */
function selfSigned(name: string, subjectAltName: string): { certFile: string; keyFile: string } {
  const certFile = join(certDir, `${name}.pem`);
  const keyFile = join(certDir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=${subjectAltName}`, '-keyout', keyFile, '-out', certFile], {
    stdio: 'pipe',
  });
  return { certFile, keyFile };
}

type Outputs = Extract<HostEvent, { type: 'outputs' }>;
const lastOutputs = (rec: LiveRecording): OutputStatus[] => [...rec.events].reverse().find((e): e is Outputs => e.type === 'outputs')?.outputs ?? [];

async function waitOutputs(rec: LiveRecording, pred: (o: OutputStatus[]) => boolean, timeoutMs: number, what: string): Promise<OutputStatus[]> {
  const deadline = Date.now() + timeoutMs;
  while (!pred(lastOutputs(rec))) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms; outputs: ${JSON.stringify(lastOutputs(rec))}`);
    await sleep(200);
  }
  return lastOutputs(rec);
}

test('composite over rtmps://: refused on an unknown CA by default; streams with the CA check dropped, still refused on a wrong name', { skip: unavailable ?? false, timeout: 120_000 }, async (t) => {
  const t0 = Date.now();
  const at = (what: string) => t.diagnostic(`${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const stopped = (r: LiveRecording) => r.events.some((e) => e.type === 'stopped');
  const trusted = await RtmpServer.start({ tls: selfSigned('ingest', 'IP:127.0.0.1') });
  servers.push(trusted);
  const wrongName = await RtmpServer.start({ tls: selfSigned('other', 'DNS:other.example') });
  servers.push(wrongName);
  live = await LiveSession.open({ livestreamId: 'ls-rtmps' });
  const host = hostMedia('a', 'VP8');
  await live.addHost(host);

  const strict = await live.record((dir) =>
    compositeConfig(dir, [host], { recordingId: 'rtmps-strict', snippetSeconds: 5, statsIntervalMs: 1000, outputs: { rtmp: [trusted.tlsUrl(KEY_REFUSED)], rtmpMaxRetries: 1 } }),
  );
  const lenient = await live.record((dir) =>
    compositeConfig(dir, [host], {
      recordingId: 'rtmps-lenient',
      snippetSeconds: 5,
      statsIntervalMs: 1000,
      outputs: { rtmp: [trusted.tlsUrl(KEY_TLS), wrongName.tlsUrl(KEY_WRONG_NAME)], rtmpMaxRetries: 1, rtmpsAllowUnknownCa: true },
    }),
  );

  at('recordings started');
  const refused = await waitOutputs(strict, (o) => o.length === 1 && o[0]!.state === 'failed', 30_000, 'the destination with an unknown CA was not refused');
  assert.match(refused[0]!.lastError ?? '', /TLS certificate/i, 'refused on its certificate');

  const outs = await waitOutputs(
    lenient,
    (o) => o.length === 2 && o.some((x) => x.target.includes(`:${trusted.tlsPort}/`) && x.state === 'connected') && o.some((x) => x.target.includes(`:${wrongName.tlsPort}/`) && x.state === 'failed'),
    30_000,
    'over TLS one destination did not connect or the wrong name was not refused',
  );
  at('over TLS connected, the wrong name refused');
  assert.match(outs.find((x) => x.state === 'failed')!.lastError ?? '', /TLS certificate/i, 'the wrong name is refused on its certificate');
  // a few seconds of the stream (its size says little: a one-host canvas is mostly its keyframes)
  await sleep(STREAM_MS);
  at(`the server wrote ${trusted.recordings(KEY_TLS)[0]?.size ?? 0} bytes; outputs ${JSON.stringify(lastOutputs(lenient))}`);
  const stopAt = Date.now();
  await live.stop();
  at('stopped');
  // Both recordings had a destination refused at once, at start: they kept recording (a snippet
  // closed at 5 s) and stopped on their own, promptly.
  for (const r of [strict, lenient]) {
    assert.ok(stopped(r), `${r.config.recordingId} stopped by itself (not killed)`);
    assert.ok(r.closed().length >= 2, `${r.config.recordingId}: ${r.closed().length} snippets closed`);
  }
  assert.ok(Date.now() - stopAt < 15_000, `stopped in ${Date.now() - stopAt} ms`);

  assert.equal(trusted.recordings(KEY_REFUSED).length, 0, 'nothing reached the server through a refused certificate');
  assert.equal(wrongName.recordings(KEY_WRONG_NAME).length, 0, 'nothing reached the server with the wrong name');
  const [rec] = trusted.recordings(KEY_TLS);
  assert.ok(rec, 'the server recorded the stream that came over TLS');
  const p = probe(rec.file);
  const seconds = Number(p.format?.duration ?? 0);
  assert.ok(seconds >= (STREAM_MS - 2000) / 1000, `the recorded stream holds ${seconds} s of media (${rec.size} bytes)`);
  const v = p.streams.find((s) => s.codec_type === 'video');
  const a = p.streams.find((s) => s.codec_type === 'audio');
  assert.equal(v?.codec_name, 'h264');
  assert.equal(`${v?.width}x${v?.height}`, '640x360');
  assert.equal(a?.codec_name, 'aac');
  assert.equal(decodeErrors(rec.file).trim(), '', 'the stream decodes without errors');
  for (const r of [strict, lenient]) {
    const text = JSON.stringify(r.events);
    for (const key of [KEY_REFUSED, KEY_TLS, KEY_WRONG_NAME]) assert.ok(!text.includes(key), `${r.config.recordingId}: no stream key in its events`);
  }
});
