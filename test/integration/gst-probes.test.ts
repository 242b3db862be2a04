// The pad probes the pipeline host times things with (pipelines/gst/gst.ts), in real GStreamer: a
// buffer's running time as seen at a pad with an offset (an individual recording's video sink pad
// has one, the AAC priming), and dropping what comes before a running time (the audio gate).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { dropBefore, Gst, onFirstBuffer, setState, State, type GstObject } from '../../pipelines/gst/gst';

const MS = 1_000_000;
/** 10 ms buffers of a 48 kHz tone, as fast as they can go, into a fakesink. */
const PIPELINE = 'audiotestsrc num-buffers=100 samplesperbuffer=480 ! audio/x-raw,rate=48000 ! identity name=mid ! fakesink name=out sync=false';

async function firstRunningTimes(setup: (mid: GstObject, out: GstObject) => void, pads: (mid: GstObject, out: GstObject) => GstObject[]): Promise<number[]> {
  const pipeline = Gst.parseLaunch(PIPELINE);
  const mid = pipeline.getByName('mid').getStaticPad('src');
  const out = pipeline.getByName('out').getStaticPad('sink');
  setup(mid, out);
  const seen = pads(mid, out).map((pad) => new Promise<number>((resolve, reject) => onFirstBuffer(pad, (ns) => (ns === null ? reject(new Error('no running time')) : resolve(ns)))));
  assert.ok(setState(pipeline, State.PLAYING));
  try {
    return await Promise.race([Promise.all(seen), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no buffer within 5 s')), 5000))]);
  } finally {
    setState(pipeline, State.NULL);
  }
}

test("a buffer's running time counts a pad's offset once, on a sink pad as on a src pad", { timeout: 20_000 }, async () => {
  const onSink = await firstRunningTimes(
    (_mid, out) => out.setOffset(1000 * MS),
    (mid, out) => [mid, out],
  );
  assert.deepEqual(onSink, [0, 1000 * MS], 'offset on the sink pad: 0 before it, 1 s at it');
  const onSrc = await firstRunningTimes(
    (mid) => mid.setOffset(1000 * MS),
    (mid, out) => [mid, out],
  );
  assert.deepEqual(onSrc, [1000 * MS, 1000 * MS], 'offset on the src pad: 1 s at it and downstream');
});

test('dropBefore drops the buffers before a running time and passes the first at or after it', { timeout: 20_000 }, async () => {
  let remove = () => {};
  const [first] = await firstRunningTimes(
    (mid) => {
      remove = dropBefore(mid, 205 * MS);
    },
    (_mid, out) => [out],
  );
  remove();
  assert.equal(first, 210 * MS, 'the first buffer to reach the sink starts at 210 ms (the 200 ms one started before 205 ms)');
});

test('dropBefore removed before any buffer passes everything', { timeout: 20_000 }, async () => {
  const [first] = await firstRunningTimes(
    (mid) => dropBefore(mid, 205 * MS)(),
    (_mid, out) => [out],
  );
  assert.equal(first, 0);
});
