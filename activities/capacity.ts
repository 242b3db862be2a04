// What one media worker can still take, in estimated CPU cores: its budget minus, per
// livestream placed on it, the larger of its reservation and the cost of its running recordings.
export interface CapacitySnapshot {
  capacityCores: number;
  usedCores: number;
  livestreams: number;
  recordings: number;
}

export class MediaCapacity {
  private readonly reservations = new Map<string, number>();
  private readonly running = new Map<string, { livestreamId: string; cores: number }>();

  constructor(readonly capacityCores: number) {}

  private livestreamCost(livestreamId: string): number {
    let recording = 0;
    for (const r of this.running.values()) if (r.livestreamId === livestreamId) recording += r.cores;
    return Math.max(this.reservations.get(livestreamId) ?? 0, recording);
  }

  used(): number {
    const ids = new Set([...this.reservations.keys(), ...[...this.running.values()].map((r) => r.livestreamId)]);
    let total = 0;
    for (const id of ids) total += this.livestreamCost(id);
    return Math.round(total * 1000) / 1000;
  }

  /** Idempotent for a livestream already placed here. */
  reserve(livestreamId: string, cores: number): boolean {
    if (this.reservations.has(livestreamId)) return true;
    if (this.capacityCores - this.used() < cores) return false;
    this.reservations.set(livestreamId, cores);
    return true;
  }

  recordingStarted(livestreamId: string, recordingKey: string, cores: number): void {
    this.running.set(recordingKey, { livestreamId, cores });
  }

  recordingStopped(recordingKey: string): void {
    this.running.delete(recordingKey);
  }

  release(livestreamId: string): void {
    this.reservations.delete(livestreamId);
    for (const [key, r] of this.running) if (r.livestreamId === livestreamId) this.running.delete(key);
  }

  snapshot(): CapacitySnapshot {
    const livestreams = new Set([...this.reservations.keys(), ...[...this.running.values()].map((r) => r.livestreamId)]);
    return { capacityCores: this.capacityCores, usedCores: this.used(), livestreams: livestreams.size, recordings: this.running.size };
  }
}
