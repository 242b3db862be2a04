// A composite whose RTMP destination is refused at once, at start (nothing listens on its port):
// the destination is retried and reported, and the recording goes on. The output bins used to be
// added while the pipeline was still on its way to PLAYING; a bin dropped in that window failed
// the pipeline's state change, which then stayed PAUSED: no snippet ever closed and the stop hung
// until the supervisor killed the process. Outputs now start once the pipeline plays.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { freePort } from '../../infra/stack/net';
import type { OutputStatus } from '../../pipelines/outputs/outputs';
import type { HostEvent } from '../../pipelines/protocol';
import { LiveSession } from '../support/live-session';
import { decodeErrors } from '../support/media';
import { compositeConfig, hostMedia, sleep } from '../support/recording';

let live: LiveSession | undefined;
after(async () => {
  await live?.cleanup();
});

type Outputs = Extract<HostEvent, { type: 'outputs' }>;

test('an RTMP destination refused at start is retried while the recording goes on and stops on time', { timeout: 60_000 }, async () => {
  live = await LiveSession.open({ livestreamId: 'ls-refused' });
  const host = hostMedia('a', 'VP8');
  await live.addHost(host);
  const refused = `rtmp://127.0.0.1:${await freePort()}/live/secretkeyF4e7`;
  const rec = await live.record((dir) => compositeConfig(dir, [host], { snippetSeconds: 3, statsIntervalMs: 1000, outputs: { rtmp: [refused] } }));
  await sleep(7500);
  const outputs: OutputStatus[] = [...rec.events].reverse().find((e): e is Outputs => e.type === 'outputs')?.outputs ?? [];
  const closedWhileRunning = rec.closed().length;
  const stopAt = Date.now();
  await live.stop();
  const stopMs = Date.now() - stopAt;

  assert.equal(outputs.length, 1);
  assert.ok(['retrying', 'connecting'].includes(outputs[0]!.state) && outputs[0]!.attempts >= 2, `the destination is retried: ${JSON.stringify(outputs)}`);
  assert.match(outputs[0]!.lastError ?? '', /connect/i, 'with the reason');
  assert.ok(closedWhileRunning >= 2, `snippets closed while the destination was refused: ${closedWhileRunning}`);
  assert.ok(rec.events.some((e) => e.type === 'stopped'), 'the recording stopped by itself (not killed)');
  assert.ok(stopMs < 15_000, `stopped in ${stopMs} ms`);
  const snippets = rec.closed();
  assert.ok(snippets.length >= 3, `${snippets.length} snippets`);
  for (const s of snippets) assert.equal(decodeErrors(s.location).trim(), '', `${s.location} plays`);
  assert.ok(!JSON.stringify(rec.events).includes('secretkeyF4e7'), 'no stream key in any event');
});
