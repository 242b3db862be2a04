// The composite's mixers as built, in real GStreamer, when no input has delivered a buffer by the
// mixers' first timeout (what rarely happens right at start): valves that pass caps but hold the
// buffers of the background and the silence for a while. A live aggregator with
// ignore-inactive-pads ends its stream there (every pad inactive counts as every pad at EOS): the
// audio reached the snippet sink as an EOS without caps, and every snippet's audio track had no
// sample description. The builders leave that setting to the host, after the first input buffer
// (the audio mixer; the compositor never skips inactive pads).
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AFTER_FIRST_INPUT, BACKGROUND_CAPS, buildComposite, VIDEO_MIXER } from '../../pipelines/builders/composite.pipeline';
import { instantiate, newPipeline, sendEos, setProp, setState, State, watchBus, type BusMessage } from '../../pipelines/gst/gst';
import type { PipelineSpec } from '../../pipelines/spec';
import { decodeErrors, probe } from '../support/media';
import { compositeConfig } from '../support/recording';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The spec with a closed valve (caps pass, buffers do not) after each mixer's always-present input. */
function holdFirstInputs(spec: PipelineSpec): { spec: PipelineSpec; valves: string[] } {
  const valves: string[] = [];
  const links = spec.links.map((l) => {
    const held = [{ input: BACKGROUND_CAPS, mixer: VIDEO_MIXER }, ...AFTER_FIRST_INPUT].find((a) => a.input === l.from && a.mixer === l.to);
    if (!held) return l;
    valves.push(`${l.from}-hold`);
    return { ...l, from: `${l.from}-hold` };
  });
  return {
    spec: {
      elements: [...spec.elements, ...valves.map((name) => ({ name, factory: 'valve', props: { drop: true, 'drop-mode': 'forward-sticky-events' } }))],
      links: [...links, ...valves.map((v) => ({ from: v.replace(/-hold$/, ''), to: v }))],
    },
    valves,
  };
}

test('composite mixers survive a start where no input buffer comes before their first timeout: every snippet has its audio', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tapedeck-mixer-start-'));
  try {
    const { spec, valves } = holdFirstInputs(buildComposite(compositeConfig(dir, [], { snippetSeconds: 1 })));
    assert.equal(valves.length, 2, 'both mixers have their always-present input held');
    const pipeline = newPipeline('mixer-start');
    const { elements } = instantiate(pipeline, spec, () => undefined);
    const messages: BusMessage[] = [];
    const stopBus = watchBus(pipeline, (m) => messages.push(m));
    try {
      assert.ok(setState(pipeline, State.PLAYING));
      await sleep(1500); // the mixers' latency (350 ms) is long past: they have timed out without input
      for (const v of valves) setProp(elements.get(v), 'drop', false);
      await sleep(2500);
      for (const src of ['bg', 'silence']) sendEos(elements.get(src));
      const deadline = Date.now() + 10_000;
      while (!messages.some((m) => m.type === 'eos' || m.type === 'error') && Date.now() < deadline) await sleep(50);
    } finally {
      stopBus();
      setState(pipeline, State.NULL);
    }
    const errors = messages.filter((m) => m.type === 'error').map((m) => `${m.source}: ${m.text}`);
    assert.deepEqual(errors, []);
    assert.ok(messages.some((m) => m.type === 'eos'), 'the recording finished');

    const files = readdirSync(dir).filter((f) => f.endsWith('.mp4.part')).sort();
    assert.ok(files.length >= 2, `snippets written: ${files.join(', ')}`);
    for (const f of files) {
      const path = join(dir, f);
      assert.equal(decodeErrors(path), '', `${f} plays`);
      const kinds = probe(path).streams.map((s) => s.codec_type).sort();
      assert.deepEqual(kinds, ['audio', 'video'], `${f} has audio and video`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
