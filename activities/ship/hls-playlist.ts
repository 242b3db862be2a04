// The live HLS playlist that players read from the bucket. hlssink2 writes its own rolling playlist
// per pipeline run, and a run that starts again (the HLS output retried after a stall, or the
// recording restarted on another worker) writes a new one from media sequence 0 with segments of a
// new run prefix. Published as is, a player would see the media sequence go backwards and the
// timestamps jump with no warning. So the shipper publishes its own playlist: every segment the
// local playlists listed, in order, a media sequence that only grows, an EXT-X-DISCONTINUITY before
// the first segment of each new run, and EXT-X-DISCONTINUITY-SEQUENCE counting the discontinuities
// that rolled out of the window (RFC 8216 6.2.1-6.2.2). It is rebuilt from the bucket's copy when a
// new shipper takes over, so a restarted recording continues the same sequence.

export interface PlaylistEntry {
  /** Segment URI as listed (a file name relative to the playlist). */
  name: string;
  /** The EXTINF duration in seconds, as written. */
  duration: string;
  /** An EXT-X-DISCONTINUITY precedes this segment. */
  discontinuity: boolean;
}

export interface MediaPlaylist {
  targetDuration: number;
  mediaSequence: number;
  discontinuitySequence: number;
  entries: PlaylistEntry[];
  ended: boolean;
}

/** Parses a media playlist (hlssink2's or one rendered here). */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const out: MediaPlaylist = { targetDuration: 0, mediaSequence: 0, discontinuitySequence: 0, entries: [], ended: false };
  let duration: string | null = null;
  let discontinuity = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.length === 0) continue;
    const tag = /^#([A-Z0-9-]+)(?::(.*))?$/.exec(line);
    if (tag) {
      const [, name, value = ''] = tag;
      if (name === 'EXT-X-TARGETDURATION') out.targetDuration = Number(value);
      else if (name === 'EXT-X-MEDIA-SEQUENCE') out.mediaSequence = Number(value);
      else if (name === 'EXT-X-DISCONTINUITY-SEQUENCE') out.discontinuitySequence = Number(value);
      else if (name === 'EXT-X-DISCONTINUITY') discontinuity = true;
      else if (name === 'EXT-X-ENDLIST') out.ended = true;
      else if (name === 'EXTINF') duration = value.split(',')[0]!;
      continue;
    }
    if (line.startsWith('#')) continue;
    if (duration === null) throw new Error(`HLS playlist: segment ${line} has no EXTINF`);
    out.entries.push({ name: line, duration, discontinuity });
    duration = null;
    discontinuity = false;
  }
  return out;
}

/** The run prefix of a segment name (`{run}-{index}.ts`). */
export const runOf = (name: string): string => name.slice(0, name.lastIndexOf('-'));

/**
 * The published playlist: a window of the newest segments of every run so far, as long as the
 * longest playlist hlssink2 wrote (its `playlist-length` once it rolls) or the bucket's copy.
 * `merge` takes a local playlist and returns true when the published one changed.
 */
export class PublishedPlaylist {
  private readonly state: MediaPlaylist;
  private window: number;
  /** Every segment published so far, also those rolled out of the window: never listed twice. */
  private readonly seen: Set<string>;

  constructor(from?: MediaPlaylist) {
    this.state = from
      ? { ...from, entries: from.entries.map((e) => ({ ...e })), ended: false }
      : { targetDuration: 0, mediaSequence: 0, discontinuitySequence: 0, entries: [], ended: false };
    this.window = Math.max(1, this.state.entries.length);
    this.seen = new Set(this.state.entries.map((e) => e.name));
  }

  merge(local: MediaPlaylist): boolean {
    const s = this.state;
    this.window = Math.max(this.window, local.entries.length);
    let changed = false;
    for (const e of local.entries) {
      if (this.seen.has(e.name)) continue;
      const last = s.entries[s.entries.length - 1];
      // A segment of another run than the one before it: its timestamps and encoder state start
      // afresh. (The very first segment ever published needs no tag.)
      const discontinuity = last !== undefined && runOf(last.name) !== runOf(e.name);
      s.entries.push({ name: e.name, duration: e.duration, discontinuity });
      this.seen.add(e.name);
      changed = true;
    }
    while (s.entries.length > this.window) {
      const gone = s.entries.shift()!;
      s.mediaSequence++;
      // The tag goes with the segment it precedes: count it (6.2.2).
      if (gone.discontinuity) s.discontinuitySequence++;
      changed = true;
    }
    // The first segment left in the window carries no tag of its own meaning: the discontinuity
    // sequence already says how many came before it.
    if (s.entries[0]?.discontinuity) {
      s.entries[0].discontinuity = false;
      s.discontinuitySequence++;
      changed = true;
    }
    const target = Math.max(s.targetDuration, local.targetDuration, ...s.entries.map((e) => Math.ceil(Number(e.duration))));
    if (target !== s.targetDuration) {
      s.targetDuration = target;
      changed = true;
    }
    const lastRun = s.entries.length > 0 ? runOf(s.entries[s.entries.length - 1]!.name) : null;
    // Ended only when the run that wrote the end is the newest one published.
    const ended = local.ended && lastRun !== null && local.entries.length > 0 && runOf(local.entries[local.entries.length - 1]!.name) === lastRun;
    if (ended !== s.ended) {
      s.ended = ended;
      changed = true;
    }
    return changed;
  }

  render(): string {
    const s = this.state;
    const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${s.targetDuration}`, `#EXT-X-MEDIA-SEQUENCE:${s.mediaSequence}`];
    if (s.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${s.discontinuitySequence}`);
    for (const e of s.entries) {
      if (e.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
      lines.push(`#EXTINF:${e.duration},`, e.name);
    }
    if (s.ended) lines.push('#EXT-X-ENDLIST');
    return `${lines.join('\n')}\n`;
  }
}
