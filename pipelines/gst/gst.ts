// The only module that talks to GStreamer (through node-gtk, which has no TypeScript types): a
// few typed helpers that the pipeline host uses. No domain knowledge here. Load it only inside
// the pipeline host process; importing it initialises GStreamer.
/* eslint-disable @typescript-eslint/no-explicit-any -- node-gtk objects are untyped; this module is the typed boundary */
import type { ElementSpec, LinkSpec, PipelineSpec, PropValue } from '../spec';

const gi = require('node-gtk');
export const Gst: any = gi.require('Gst', '1.0');
// Before GstVideo: loading it registers GstVideo's meta APIs, which needs an initialised GStreamer
// (loaded first, GLib printed three criticals: meta tables not yet created).
Gst.init(null);
const GLib: any = gi.require('GLib', '2.0');
const GstVideo: any = gi.require('GstVideo', '1.0');
const GstController: any = gi.require('GstController', '1.0');

/** A GStreamer object handle (element, pad, bin, pipeline) as node-gtk gives it. */
export type GstObject = any;

export const State = { NULL: Gst.State.NULL, READY: Gst.State.READY, PAUSED: Gst.State.PAUSED, PLAYING: Gst.State.PLAYING } as const;

export class GstError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Sets a property from its string form, as gst-launch does: enums, flags, caps, structures. */
export function setProp(obj: GstObject, name: string, value: PropValue): void {
  Gst.utilSetObjectArg(obj, name, typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value));
}

const camel = (name: string) => name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Reads a property; 64-bit values arrive as BigInt and are returned as numbers. */
export function getProp(obj: GstObject, name: string): unknown {
  const v = obj[camel(name)];
  return typeof v === 'bigint' ? Number(v) : v;
}

export function makeElement(spec: ElementSpec): GstObject {
  const el = Gst.ElementFactory.make(spec.factory, spec.name);
  if (!el) throw new GstError('missing-element', `GStreamer element ${spec.factory} is not installed`);
  for (const [k, v] of Object.entries(spec.props ?? {})) setProp(el, k, v);
  return el;
}

export function newPipeline(name: string): GstObject {
  const pipeline = new Gst.Pipeline({ name });
  // A realtime clock makes base-time + running-time wall-clock time, which dates the snippets.
  const clock = new Gst.SystemClock();
  clock.clockType = Gst.ClockType.REALTIME;
  pipeline.useClock(clock);
  return pipeline;
}

export interface Instantiated {
  elements: Map<string, GstObject>;
  /** Sink pads requested from aggregators/muxers, by `to` element and link index. */
  requestedPads: GstObject[];
}

/** Creates the elements of a spec, adds them to `bin` and links them (not the outputs of a branch). */
export function instantiate(bin: GstObject, spec: PipelineSpec, lookup: (name: string) => GstObject | undefined): Instantiated {
  const elements = new Map<string, GstObject>();
  for (const e of spec.elements) {
    const el = makeElement(e);
    bin.add(el);
    elements.set(e.name, el);
  }
  const find = (name: string) => elements.get(name) ?? lookup(name);
  const requestedPads: GstObject[] = [];
  for (const l of spec.links) {
    const pad = link(find(l.from), find(l.to), l);
    if (pad) requestedPads.push(pad);
  }
  return { elements, requestedPads };
}

/** Links two elements; with `toPad` a request (or static) pad on the target. Returns a requested pad. */
export function link(from: GstObject, to: GstObject, l: LinkSpec): GstObject | undefined {
  if (!from || !to) throw new GstError('bad-spec', `cannot link ${l.from} → ${l.to}: element missing`);
  if (!l.toPad) {
    if (!from.link(to)) throw new GstError('link-failed', `cannot link ${l.from} → ${l.to}`);
    return undefined;
  }
  let sinkPad = l.toPad.includes('%') ? null : to.getStaticPad(l.toPad);
  const requested = !sinkPad;
  if (!sinkPad) sinkPad = to.requestPadSimple(l.toPad);
  if (!sinkPad) throw new GstError('link-failed', `no pad ${l.toPad} on ${l.to}`);
  for (const [k, v] of Object.entries(l.toPadProps ?? {})) setProp(sinkPad, k, v);
  const srcPad = from.getStaticPad('src');
  const ret = srcPad.link(sinkPad);
  if (ret !== Gst.PadLinkReturn.OK) throw new GstError('link-failed', `cannot link ${l.from} → ${l.to}.${l.toPad} (${ret})`);
  return requested ? sinkPad : undefined;
}

export interface BusMessage {
  type: 'eos' | 'error' | 'warning' | 'element' | 'latency' | 'state-changed' | 'other';
  source: string;
  /** The source's path in the bin hierarchy (`/GstPipeline:p/GstBin:out-x/GstRtmp2Sink:x-sink`): its ancestry. */
  path: string;
  /** Structure name of element messages (splitmuxsink-fragment-closed, level, ...). */
  name?: string;
  structure?: GstObject;
  text?: string;
  debug?: string;
  /** state-changed of the toplevel (the pipeline) only: the state it is in now. */
  state?: number;
}

function toMessage(msg: GstObject): BusMessage {
  const source = msg.src ? String(msg.src.name) : '';
  const path = msg.src ? String(msg.src.getPathString()) : '';
  const t = msg.type;
  if (t === Gst.MessageType.EOS) return { type: 'eos', source, path };
  if (t === Gst.MessageType.ERROR || t === Gst.MessageType.WARNING) {
    const [err, debug] = t === Gst.MessageType.ERROR ? msg.parseError() : msg.parseWarning();
    return { type: t === Gst.MessageType.ERROR ? 'error' : 'warning', source, path, text: err?.message ?? String(err), debug: debug ?? undefined };
  }
  if (t === Gst.MessageType.ELEMENT) {
    const structure = msg.getStructure();
    return { type: 'element', source, path, name: structure?.getName(), structure };
  }
  if (t === Gst.MessageType.LATENCY) return { type: 'latency', source, path };
  // Every element posts these; only the pipeline's (a one-segment path) are parsed.
  if (t === Gst.MessageType.STATE_CHANGED && path.lastIndexOf('/') === 0) {
    const [, state] = msg.parseStateChanged();
    return { type: 'state-changed', source, path, state: Number(state) };
  }
  return { type: 'other', source, path };
}

/**
 * Polls the bus and turns GLib's default main context from a timer: node-gtk releases GObjects
 * only when that context runs, and bus messages are the only way events reach JS (no per-buffer
 * callbacks, which deadlock against blocking calls). Every 50 ms: nothing waits on a message
 * (times come from the messages' running times), and at 9 hosts the host's JS thread cost 0.0091
 * CPU-s/s against 0.0120 when polling every 20 ms (per-thread schedstat, 10 s window, same run).
 */
export function watchBus(pipeline: GstObject, onMessage: (m: BusMessage) => void, intervalMs = 50): () => void {
  const bus = pipeline.getBus();
  const ctx = GLib.MainContext.default();
  const timer = setInterval(() => {
    for (let i = 0; i < 100 && ctx.iteration(false); i++);
    for (;;) {
      const msg = bus.pop();
      if (!msg) break;
      onMessage(toMessage(msg));
    }
  }, intervalMs);
  return () => clearInterval(timer);
}

/** Reads a uint64 / int field of a structure as a number, or undefined. */
export function structUint64(structure: GstObject, field: string): number | undefined {
  const [ok, v] = structure.getUint64(field);
  return ok ? Number(v) : undefined;
}

export function structUint(structure: GstObject, field: string): number | undefined {
  const [ok, v] = structure.getUint(field);
  return ok ? Number(v) : undefined;
}

export function structString(structure: GstObject, field: string): string | undefined {
  const v = structure.getString(field);
  return v ?? undefined;
}

/** Pipeline clock base time in nanoseconds (wall clock with the realtime clock above). */
export function baseTimeNs(pipeline: GstObject): number {
  return Number(pipeline.getBaseTime());
}

/** The pipeline's running time now, in ns (clock time − base time); null before it has a clock. */
export function runningTimeNs(pipeline: GstObject): number | null {
  const clock = pipeline.getClock();
  return clock ? Number(clock.getTime()) - Number(pipeline.getBaseTime()) : null;
}

/**
 * Numeric properties of a pad that change at a running time rather than when they are set: a
 * controlled property (step interpolation) that an aggregator applies per output frame, at that
 * frame's time. A mixer renders a frame its latency after the frame's time, so a property set
 * directly would also change frames up to that long before the moment it stands for.
 */
export class TimedProps {
  private readonly sources = new Map<string, { source: GstObject; times: number[] }>();
  constructor(private readonly target: GstObject) {}

  /**
   * `atNs` null (the pipeline has no clock yet, nothing rendered): the property is set at once. A
   * change never lands before one set earlier: it is moved to that one's time and replaces it.
   */
  set(name: string, value: number, atNs: number | null): void {
    if (atNs === null) {
      setProp(this.target, name, value);
      return;
    }
    let s = this.sources.get(name);
    if (!s) {
      const source = new GstController.InterpolationControlSource();
      source.mode = GstController.InterpolationMode.NONE;
      this.target.addControlBinding(GstController.DirectControlBinding.newAbsolute(this.target, name, source));
      s = { source, times: [] };
      this.sources.set(name, s);
    }
    // Points a minute old have long been applied (the last of them holds until the next one).
    const last = s.times[s.times.length - 1];
    const at = last === undefined ? atNs : Math.max(atNs, last);
    while (s.times.length > 1 && s.times[1]! < at - 60_000_000_000) s.source.unset(s.times.shift()!);
    s.source.set(at, value);
    if (at !== last) s.times.push(at);
  }
}

/** min latency of a pad, through a latency query, in ns; null when the query fails. */
export function padLatencyNs(pad: GstObject): number | null {
  if (!pad) return null;
  const q = Gst.Query.newLatency();
  if (!pad.query(q)) return null;
  const r = q.parseLatency();
  return Array.isArray(r) ? Number(r[1]) : null;
}

export function capsString(pad: GstObject): string | null {
  const caps = pad?.getCurrentCaps();
  return caps ? String(caps.toString()) : null;
}

/**
 * Runs `fn` once, on the JS thread, when the first buffer passes `pad`, with that buffer's running
 * time at the pad (null without a timestamp or a time segment); the probe removes itself there.
 * With `notBeforeNs`, buffers whose running time is known and earlier pass without counting (the
 * probe runs for each of them). The streaming thread waits for the JS thread meanwhile (node-gtk),
 * so `fn` must not block on GStreamer; property changes are fine. Returns a function that removes
 * a probe that never fired; after it, `fn` is not called even if the streaming thread was already
 * waiting to run it (change the state of the element that owns that thread only a turn of the
 * event loop later).
 */
export function onFirstBuffer(pad: GstObject, fn: (runningNs: number | null) => void, notBeforeNs?: number): () => void {
  let runningNs: number | null = null;
  return watchBuffers(
    pad,
    (buffer) => {
      runningNs = bufferRunningNs(pad, buffer);
      return notBeforeNs !== undefined && runningNs !== null && runningNs < notBeforeNs ? 'pass' : 'done';
    },
    () => fn(runningNs),
  ).remove;
}

/**
 * Drops the buffers passing `pad` whose running time there is known and earlier than `fromNs`,
 * until the first that is not, which passes; the probe removes itself there. It runs on the JS
 * thread for each of those buffers, and the streaming thread waits for it meanwhile (node-gtk), as
 * with onFirstBuffer. Returns a function that removes a probe still waiting; after it, every buffer
 * passes.
 */
export function dropBefore(pad: GstObject, fromNs: number): () => void {
  return watchBuffers(pad, (buffer) => {
    const runningNs = bufferRunningNs(pad, buffer);
    return runningNs !== null && runningNs < fromNs ? 'drop' : 'done';
  }).remove;
}

/**
 * What a buffer probe that watches for one buffer (watchBuffers) does with each: let it pass and
 * keep watching, drop it and keep watching, or let it pass and remove itself.
 */
type Verdict = 'pass' | 'drop' | 'done';

/**
 * A buffer probe on `pad` that asks `judge` about each buffer until one is `done`, then removes
 * itself and calls `onDone` (on the JS thread, after the probe counts as removed). `remove()`
 * takes a probe still watching away; a callback the streaming thread was already waiting to run
 * then passes its buffer without asking.
 */
function watchBuffers(pad: GstObject, judge: (buffer: GstObject) => Verdict, onDone?: () => void): { pending: () => boolean; remove: () => void } {
  let id = 0;
  id = Number(
    pad.addProbe(Gst.PadProbeType.BUFFER, (_pad: GstObject, info: GstObject) => {
      if (!id) return Gst.PadProbeReturn.REMOVE;
      const verdict = judge(info.getBuffer());
      if (verdict === 'pass') return Gst.PadProbeReturn.OK;
      if (verdict === 'drop') return Gst.PadProbeReturn.DROP;
      id = 0;
      onDone?.();
      return Gst.PadProbeReturn.REMOVE;
    }),
  );
  return {
    pending: () => id !== 0,
    remove: () => {
      if (id) pad.removeProbe(id);
      id = 0;
    },
  };
}

const CLOCK_TIME_NONE = 2n ** 64n - 1n;

/**
 * A buffer's PTS as running time at `pad`: through the pad's segment and, on a src pad, its offset.
 * A sink pad's offset is already in the segment it keeps (applied as the event arrived); a src
 * pad's is applied only as the segment leaves.
 */
function bufferRunningNs(pad: GstObject, buffer: GstObject): number | null {
  const pts = buffer ? BigInt(buffer.pts) : CLOCK_TIME_NONE;
  const segment = pad.getStickyEvent(Gst.EventType.SEGMENT, 0)?.parseSegment();
  if (pts === CLOCK_TIME_NONE || !segment || Number(segment.format) !== Number(Gst.Format.TIME)) return null;
  const rt = BigInt(segment.toRunningTime(Gst.Format.TIME, pts));
  if (rt === CLOCK_TIME_NONE) return null;
  return Number(pad.getDirection()) === Number(Gst.PadDirection.SRC) ? Number(rt) + Number(pad.getOffset()) : Number(rt);
}

/** Asks a video encoder for a keyframe as soon as possible (an upstream force-key-unit event on its src pad). */
export function requestKeyframe(encoder: GstObject): boolean {
  const pad = encoder?.getStaticPad('src');
  if (!pad) return false;
  return Boolean(pad.sendEvent(GstVideo.videoEventNewUpstreamForceKeyUnit(Gst.CLOCK_TIME_NONE, true, 0)));
}

/** EOS into an element (a source: downstream from it) or a sink pad (downstream from there). */
export function sendEos(target: GstObject): boolean {
  return Boolean(target.sendEvent(Gst.Event.newEos()));
}

/** The graph in Graphviz form, for a wedged pipeline's post-mortem. */
export function dotGraph(bin: GstObject): string {
  return String(Gst.debugBinToDotData(bin, Gst.DebugGraphDetails.ALL));
}

export function setState(el: GstObject, state: number): boolean {
  return el.setState(state) !== Gst.StateChangeReturn.FAILURE;
}

export function elementByName(bin: GstObject, name: string): GstObject | undefined {
  return bin.getByName(name) ?? undefined;
}

/** An empty bin, for a part of the graph added and removed as a whole (a live output). */
export function newBin(name: string): GstObject {
  return new Gst.Bin({ name });
}

/** Exposes `target` (a pad of an element inside `bin`) as the bin's pad `name`. */
export function addGhostPad(bin: GstObject, name: string, target: GstObject): GstObject {
  const ghost = Gst.GhostPad.new(name, target);
  if (!ghost || !bin.addPad(ghost)) throw new GstError('link-failed', `cannot expose ${name} on ${String(bin.name)}`);
  return ghost;
}

/** A tee's request pad linked to a sink pad. */
export interface TeeLink {
  tee: GstObject;
  pad: GstObject;
}

/** Links a new request pad of a tee to `sink`; release the link with `releaseTeePad`. */
export function linkFromTee(tee: GstObject, sink: GstObject): TeeLink {
  const pad = tee.requestPadSimple('src_%u');
  if (!pad) throw new GstError('link-failed', `no src pad on ${String(tee.name)}`);
  const ret = pad.link(sink);
  if (ret !== Gst.PadLinkReturn.OK) {
    releaseTeePad({ tee, pad });
    throw new GstError('link-failed', `cannot link ${String(tee.name)} → ${String(sink.getParent()?.name)} (${ret})`);
  }
  return { tee, pad };
}

/** Unlinks and releases a tee's request pad: the branch behind it stops receiving data. */
export function releaseTeePad(link: TeeLink): void {
  const { tee, pad } = link;
  const peer = pad.getPeer();
  if (peer) pad.unlink(peer);
  tee.releaseRequestPad(pad);
}
