// The mock-sfu command: flags, stdin commands and the JSON report, sending to loopback receivers.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../infra/stack/tools';
import { isRtcp, parseRtp } from '../../pipelines/ingest/rtp';
import { run } from '../support/processes';
import { RtpRecorder, sleep } from '../support/udp';

const MAIN = join(PROJECT_ROOT, 'dist', 'apps', 'mock-sfu', 'main.js');
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe('mock-sfu command', { timeout: 90_000 }, () => {
  it('sends two hosts (VP8 and H.264) to --target, obeys stdin commands, reports what it sent', async () => {
    const rx = await Promise.all([RtpRecorder.open(), RtpRecorder.open(), RtpRecorder.open(), RtpRecorder.open()]);
    cleanups.push(async () => void (await Promise.all(rx.map((r) => r.close()))));
    const target = rx.map((r) => `127.0.0.1:${r.port}`).join(',');
    const p = run(process.execPath, [MAIN, '--target', target, '--codecs', 'vp8,h264', '--clip-seconds', '4', '--rtcp', 'mux', '--duration', '3'], { PATH: process.env.PATH });
    cleanups.push(async () => void p.child.kill('SIGKILL'));
    await p.waitForLine(/"event":"sending"/, 60_000);
    await sleep(1000);
    p.child.stdin.write('camera host-2 off\n');
    p.child.stdin.write('mic host-1 off\n');
    await p.waitForLine(/"command":"mic host-1 off"/, 5000);
    const [v1, a1, v2, a2] = rx as [RtpRecorder, RtpRecorder, RtpRecorder, RtpRecorder];
    const counts = () => [v1, a1, v2, a2].map((r) => r.packets.length);
    const atCommand = counts();
    const line = await p.waitForLine(/"event":"stopped"/, 10_000);
    const report = JSON.parse(line);
    assert.equal(report.reason, 'duration');
    assert.equal(report.sendErrors, 0);
    assert.ok(report.usage.cpuSeconds >= 0 && report.usage.seconds >= 2.9);
    const after = counts();
    // host-1 video and host-2 audio kept going; host-2 video and host-1 audio stopped (RTCP aside)
    assert.ok(after[0]! > atCommand[0]! + 20 && after[3]! > atCommand[3]! + 20, `${atCommand} → ${after}`);
    const rtpAfter = (r: RtpRecorder, from: number) => r.packets.slice(from).filter((x) => !isRtcp(x.data) && parseRtp(x.data).ok).length;
    assert.ok(rtpAfter(v2, atCommand[2]!) <= 3, 'host-2 video stopped');
    assert.ok(rtpAfter(a1, atCommand[1]!) <= 3, 'host-1 audio stopped');
    // payload types: VP8 96, H.264 102, Opus 111; RTCP multiplexed on the same ports
    const pts = (r: RtpRecorder) => new Set(r.packets.filter((x) => !isRtcp(x.data)).map((x) => x.data[1]! & 0x7f));
    assert.ok(pts(v1).has(96) && pts(v2).has(102) && pts(a1).has(111));
    assert.ok(v1.packets.some((x) => x.data[1] === 200), 'sender reports on the RTP port');
    assert.equal(report.stats['host-1'].video.packets, v1.packets.filter((x) => !isRtcp(x.data)).length);
    assert.equal((await p.exited).code, 0);
  });

  it('rejects bad flags with exit code 64 and a message naming the flag', async () => {
    const p = run(process.execPath, [MAIN, '--target', '127.0.0.1:1,127.0.0.1:3', '--loss', '2'], { PATH: process.env.PATH });
    assert.equal((await p.exited).code, 64);
    assert.match(p.output(), /--loss must be a number in 0\.\.1, got "2"/);
    const q = run(process.execPath, [MAIN, '--target', '127.0.0.1:1'], { PATH: process.env.PATH });
    assert.equal((await q.exited).code, 64);
    assert.match(q.output(), /--target takes two endpoints per host/);
  });
});
