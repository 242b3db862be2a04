// The record command end to end: it opens the hosts' ingest endpoints from TAPEDECK_RTP_ADDRESS /
// TAPEDECK_RTP_PORTS and prints them; the mock SFU sends two hosts there; Ctrl-C (SIGINT to the
// command's whole process group, as a terminal sends it) finishes the last snippet, which is
// printed, then one summary line, and the command exits 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MockSfu, type MockHostSpec } from '../../apps/mock-sfu/sender';
import { PROJECT_ROOT } from '../../infra/stack/tools';
import { gridTiles } from '../../pipelines/layout';
import { colourDistance, discover, hexToRgb, tileColour } from '../support/frames';
import { TEST_COLOURS } from '../support/live-session';
import { decodeErrors, probe } from '../support/media';
import { sleep, tempSpool } from '../support/recording';
import { freeUdpPort } from '../support/udp';

const MAIN = join(PROJECT_ROOT, 'dist', 'apps', 'record', 'main.js');
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('record CLI: SFU-facing ports from TAPEDECK_RTP_PORTS, Ctrl-C prints the last snippet and a summary, exit 0', { timeout: 90_000 }, async () => {
  const spool = tempSpool('record-cli');
  cleanups.push(spool.cleanup);
  let first = 0;
  while (first < 1024 || first + 16 > 65535) first = ((await freeUdpPort()) & ~1) >>> 0;
  const last = first + 15;
  const endpointsFile = join(spool.dir, 'endpoints.json');
  const out = join(spool.dir, 'rec');
  const child = spawn(process.execPath, [MAIN, '--kind', 'composite', '--out', out, '--host', 'a:VP8', '--host', 'b:H264', '--snippet-seconds', '2', '--endpoints-out', endpointsFile], {
    env: { PATH: process.env.PATH, TAPEDECK_RTP_ADDRESS: '127.0.0.1', TAPEDECK_RTP_PORTS: `${first}-${last}` },
    stdio: ['ignore', 'pipe', 'pipe'],
    // its own process group, so the test can signal it the way a terminal does (the pipeline host included)
    detached: true,
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  cleanups.push(() => signalGroup('SIGKILL'));
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = async (re: RegExp, ms: number) => {
    const until = Date.now() + ms;
    while (!re.test(output)) {
      if (Date.now() > until) throw new Error(`no ${re} within ${ms} ms:\n${output}`);
      await sleep(50);
    }
  };

  await waitFor(/recording into/, 30_000);
  const printed = [...output.matchAll(/host (\w+): send video RTP \((\w+)\/(\d+)\) to ([\d.]+):(\d+), audio RTP \(OPUS\/111\) to [\d.]+:(\d+)/g)];
  assert.deepEqual(printed.map((m) => m[1]), ['a', 'b']);
  const endpoints = JSON.parse(readFileSync(endpointsFile, 'utf8')) as Array<Omit<MockHostSpec, 'colour'>>;
  for (const [i, m] of printed.entries()) {
    for (const port of [Number(m[5]), Number(m[6])]) assert.ok(port >= first && port <= last && port % 2 === 0, `port ${port} is an even port of ${first}-${last}`);
    assert.equal(endpoints[i]!.video.port, Number(m[5]));
    assert.equal(endpoints[i]!.audio.port, Number(m[6]));
  }

  const sfu = await MockSfu.create({ clipSeconds: 4, hosts: endpoints.map((e, i) => ({ ...e, colour: TEST_COLOURS[i]! })) });
  cleanups.push(() => sfu.stop());
  sfu.start();
  await waitFor(/snippet 3 /, 30_000);
  signalGroup('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 30_000)))]);
  clearTimeout(timer);
  await sfu.stop();
  assert.equal(code, 0, output);

  const lines = output.split('\n');
  const stopLine = lines.findIndex((l) => /SIGINT: stopping/.test(l));
  const snippetLines = lines.filter((l) => /^\[record\] snippet \d+ /.test(l));
  assert.ok(stopLine >= 0, output);
  assert.ok(lines.slice(stopLine).some((l) => /^\[record\] snippet \d+ /.test(l)), `the last snippet is printed after Ctrl-C:\n${output}`);
  const summary = lines.find((l) => /^\[record\] done: /.test(l));
  assert.ok(summary, `a summary line:\n${output}`);
  assert.match(summary, new RegExp(`done: ${snippetLines.length} snippets, [\\d.]+ s of media, \\d+ bytes; stopped`));

  const files = readdirSync(out).filter((f) => f.endsWith('.mp4')).sort();
  assert.equal(files.length, snippetLines.length);
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.part')).length, 0, 'no unfinished snippet');
  const lastFile = join(out, files[files.length - 1]!);
  assert.equal(decodeErrors(lastFile), '');
  discover(lastFile);
  assert.ok(existsSync(lastFile.replace(/\.mp4$/, '.json')), 'the last snippet has its metadata');
  assert.ok(Number(probe(lastFile).format.duration) > 0);

  // media really went through the printed ports: each host's camera is in its tile
  // (snippet 2: the sender started after the command printed its ports, and VP8 waits for a keyframe)
  const second = join(out, files[2]!);
  for (const [i, hostId] of ['a', 'b'].entries()) {
    const tile = gridTiles(['a', 'b'], 640, 360).find((t) => t.hostId === hostId)!;
    const seen = tileColour(second, 0.5, tile);
    assert.ok(colourDistance(seen, hexToRgb(TEST_COLOURS[i]!)) <= 40, `host ${hostId}'s tile shows its camera (${seen.join(',')})`);
  }
});
