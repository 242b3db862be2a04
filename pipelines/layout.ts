// Composite layouts as a pure module: where each host's tile goes on the canvas, and which host is
// the active speaker (from the audio levels the pipeline measures, with hysteresis so the big
// tile does not flicker between two people talking over each other).
import type { Layout } from './config';

export interface Tile {
  hostId: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Hidden tiles (spotlight: everyone else) keep their size but are drawn with alpha 0. */
  visible: boolean;
  zorder: number;
}

export const MAX_GRID_HOSTS = 25;

const even = (n: number) => Math.max(2, Math.floor(n / 2) * 2);

/** Grid: the smallest square-ish grid that fits n hosts (1, 2x1, 2x2, 3x2, 3x3 ... 5x5), row by row. */
export function gridTiles(hostIds: string[], width: number, height: number): Tile[] {
  const n = Math.min(hostIds.length, MAX_GRID_HOSTS);
  if (n === 0) return [];
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const w = even(width / cols);
  const h = even(height / rows);
  return hostIds.map((hostId, i) => {
    if (i >= n) return { hostId, x: 0, y: 0, width: w, height: h, visible: false, zorder: 1 };
    const row = Math.floor(i / cols);
    // Centre a short last row.
    const inRow = row === rows - 1 ? n - row * cols : cols;
    const offset = Math.floor((width - inRow * w) / 2);
    return { hostId, x: offset + (i % cols) * w, y: row * h, width: w, height: h, visible: true, zorder: 1 };
  });
}

/** Spotlight: one host fills the canvas; the others are hidden (still heard). */
export function spotlightTiles(hostIds: string[], width: number, height: number, spotlight: string | undefined): Tile[] {
  const chosen = spotlight && hostIds.includes(spotlight) ? spotlight : hostIds[0];
  return hostIds.map((hostId) => ({ hostId, x: 0, y: 0, width: even(width), height: even(height), visible: hostId === chosen, zorder: 1 }));
}

/** Active speaker: the speaker large on top, the others in a strip of thumbnails below. */
export function speakerTiles(hostIds: string[], width: number, height: number, speaker: string | undefined | null): Tile[] {
  if (hostIds.length === 0) return [];
  const main = speaker && hostIds.includes(speaker) ? speaker : hostIds[0]!;
  const others = hostIds.filter((h) => h !== main);
  if (others.length === 0) return [{ hostId: main, x: 0, y: 0, width: even(width), height: even(height), visible: true, zorder: 1 }];
  const stripH = even(height / 4);
  const mainH = even(height - stripH);
  const mainW = even((mainH * 16) / 9);
  const thumbW = even(width / Math.max(4, others.length));
  const thumbH = even(Math.min(stripH, (thumbW * 9) / 16));
  const stripX = Math.floor((width - thumbW * others.length) / 2);
  const tiles: Tile[] = [{ hostId: main, x: Math.floor((width - mainW) / 2), y: 0, width: mainW, height: mainH, visible: true, zorder: 1 }];
  others.forEach((hostId, i) => tiles.push({ hostId, x: Math.max(0, stripX) + i * thumbW, y: mainH, width: thumbW, height: thumbH, visible: true, zorder: 2 }));
  return hostIds.map((h) => tiles.find((t) => t.hostId === h)!);
}

export function layoutTiles(layout: Layout, hostIds: string[], width: number, height: number, activeSpeaker?: string | null): Tile[] {
  switch (layout.kind) {
    case 'grid':
      return gridTiles(hostIds, width, height);
    case 'spotlight':
      return spotlightTiles(hostIds, width, height, layout.spotlightHostId);
    case 'active-speaker':
      return speakerTiles(hostIds, width, height, layout.spotlightHostId ?? activeSpeaker);
  }
}

export interface SpeakerOptions {
  /** Below this level (dBFS) a host counts as silent. */
  silenceDb: number;
  /** A challenger must be this much louder than the current speaker ... */
  marginDb: number;
  /** ... for this long before the speaker changes. */
  holdMs: number;
  /** Smoothing of the level (exponential moving average weight of a new sample). */
  alpha: number;
}

export const SPEAKER_DEFAULTS: SpeakerOptions = { silenceDb: -50, marginDb: 6, holdMs: 1500, alpha: 0.3 };

/** Picks the active speaker from level samples; changes only after a challenger leads for holdMs. */
export class ActiveSpeakerPicker {
  private readonly levels = new Map<string, number>();
  private current: string | null = null;
  private challenger: { hostId: string; since: number } | null = null;

  constructor(private readonly options: SpeakerOptions = SPEAKER_DEFAULTS) {}

  get speaker(): string | null {
    return this.current;
  }

  remove(hostId: string): void {
    this.levels.delete(hostId);
    if (this.current === hostId) this.current = null;
    if (this.challenger?.hostId === hostId) this.challenger = null;
  }

  /** Feeds one level sample; returns true when the speaker changed. */
  update(hostId: string, rmsDb: number, nowMs: number): boolean {
    const prev = this.levels.get(hostId);
    const level = prev === undefined ? rmsDb : prev + this.options.alpha * (rmsDb - prev);
    this.levels.set(hostId, level);
    let loudest: string | null = null;
    let loudestLevel = -Infinity;
    for (const [h, l] of this.levels) if (l > loudestLevel) [loudest, loudestLevel] = [h, l];
    if (loudest === null || loudestLevel < this.options.silenceDb) {
      this.challenger = null;
      return false;
    }
    if (this.current === null) {
      this.current = loudest;
      return true;
    }
    if (loudest === this.current) {
      this.challenger = null;
      return false;
    }
    const currentLevel = this.levels.get(this.current) ?? -Infinity;
    if (loudestLevel - currentLevel < this.options.marginDb) {
      this.challenger = null;
      return false;
    }
    if (this.challenger?.hostId !== loudest) {
      this.challenger = { hostId: loudest, since: nowMs };
      return false;
    }
    if (nowMs - this.challenger.since >= this.options.holdMs) {
      this.current = loudest;
      this.challenger = null;
      return true;
    }
    return false;
  }
}
