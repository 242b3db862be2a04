// The Opus size cache (infra/native/opus-size-cache.c) against the real libopus and GStreamer:
// install.sh built it, Opus decodes to the same samples with it as without, libopus's own calls
// bind to it, and pipeline hosts run with it (and without it when TAPEDECK_OPUS_SIZE_CACHE=false).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { OPUS_SIZE_CACHE_LIB, PipelineSupervisor } from '../../pipelines/supervisor';
import { hostMedia, individualConfig, sleep, tempSpool } from '../support/recording';
import { sendHost } from '../support/rtp-sender';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function gst(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync('gst-launch-1.0', ['-q', ...args], { env, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: 60_000 });
  assert.equal(r.status, 0, `gst-launch-1.0 ${args.join(' ')}: ${r.stderr.slice(-2000)}`);
  return r;
}

/** Without the preload, whatever the test runner's environment has. */
function plainEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.LD_PRELOAD;
  return env;
}

test('infra/install.sh built the Opus size cache', () => {
  assert.ok(existsSync(OPUS_SIZE_CACHE_LIB), `${OPUS_SIZE_CACHE_LIB} exists`);
});

for (const channels of [1, 2]) {
  test(`${channels}-channel Opus decodes to the same samples with the cache, and libopus calls the cache`, { timeout: 120_000 }, () => {
    const spool = tempSpool(`opus-cache-${channels}`);
    cleanups.push(spool.cleanup);
    const ogg = join(spool.dir, 'in.ogg');
    // 4 s of a sweep with noise (CELT and SILK frames alike, at 32 kbit/s), then decoded twice.
    gst([
      'audiotestsrc', 'num-buffers=200', 'samplesperbuffer=960', 'wave=pink-noise', '!', `audio/x-raw,rate=48000,channels=${channels}`, '!',
      'opusenc', 'bitrate=32000', 'audio-type=voice', '!', 'oggmux', '!', 'filesink', `location=${ogg}`,
    ], plainEnv());
    const decode = (out: string, env: NodeJS.ProcessEnv) => {
      const r = gst(['filesrc', `location=${ogg}`, '!', 'oggdemux', '!', 'opusdec', 'plc=true', '!', 'filesink', `location=${join(spool.dir, out)}`], env);
      return { pcm: readFileSync(join(spool.dir, out)), stderr: r.stderr };
    };
    const plain = decode('plain.raw', plainEnv());
    const cached = decode('cached.raw', { ...plainEnv(), LD_PRELOAD: OPUS_SIZE_CACHE_LIB, LD_DEBUG: 'bindings' });
    assert.ok(plain.pcm.length >= 4 * 48000 * channels * 2 * 0.9, `about 4 s of ${channels}-channel samples decoded (${plain.pcm.length} bytes)`);
    assert.ok(plain.pcm.equals(cached.pcm), 'the same samples with the cache as without');
    // The dynamic linker's record: libopus's calls to opus_decoder_get_size go to the cache.
    const binding = cached.stderr.split('\n').find((l) => /binding file \S*libopus\.so\.0 .* to \S*libtapedeck-opus-size-cache\.so .*opus_decoder_get_size/.test(l));
    assert.ok(binding, 'libopus binds opus_decoder_get_size to the cache');
  });
}

/** Starts an audio-only individual recording, sends it Opus for a few seconds, and says whether its host had the cache mapped. */
async function hostMapsCache(env: Record<string, string>): Promise<boolean> {
  const spool = tempSpool('opus-cache-host');
  cleanups.push(spool.cleanup);
  const sup = new PipelineSupervisor({ stdio: 'ignore', env });
  cleanups.push(() => sup.kill());
  const closed: unknown[] = [];
  sup.on('event', (e) => {
    if (e.type === 'fragment-closed') closed.push(e);
  });
  const ready = await sup.start(individualConfig(spool.dir, hostMedia('h1'), 'audio'));
  const mapped = readFileSync(`/proc/${ready.pid}/maps`, 'utf8').includes(OPUS_SIZE_CACHE_LIB);
  const sender = sendHost({ audioPort: ready.inputs[0]!.audio!.rtpPort });
  cleanups.push(() => sender.stop());
  await sleep(3500);
  const exit = await sup.stop('test done', 20_000);
  await sender.stop();
  assert.equal(exit.clean, true, exit.reason);
  assert.ok(closed.length >= 2, `the host recorded the Opus it got (${closed.length} snippets)`);
  return mapped;
}

test('pipeline hosts run with the cache, and without it when TAPEDECK_OPUS_SIZE_CACHE=false', { timeout: 90_000 }, async () => {
  const env = plainEnv() as Record<string, string>;
  assert.equal(await hostMapsCache(env), true, 'mapped by default');
  assert.equal(await hostMapsCache({ ...env, TAPEDECK_OPUS_SIZE_CACHE: 'false' }), false, 'not mapped when turned off');
});
