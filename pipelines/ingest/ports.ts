// Allocates the ingest's UDP ports from the configured range: even ports for RTP so that port+1
// is free for RTCP (the RFC 3550 convention SFUs follow when they do not multiplex). Ports are
// taken in rotation rather than lowest-first, so a port just released is not handed out again at
// once while stray packets for its previous host may still be in flight.

export interface PortRange {
  first: number;
  last: number;
}

export class PortRangeExhaustedError extends Error {
  readonly type = 'PortRangeExhausted';
  constructor(range: PortRange, inUse: number) {
    super(`no free RTP port pair left in ${range.first}-${range.last} on this worker (${inUse} pairs in use); widen TAPEDECK_RTP_PORTS or run fewer hosts per worker`);
    this.name = 'PortRangeExhaustedError';
  }
}

/** Parses `40000-40999` (inclusive). At least one even port with its odd neighbour must fit. */
export function parsePortRange(raw: string): PortRange {
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(raw);
  if (!m) throw new Error(`"${raw}" is not a port range like 40000-40999`);
  const first = Number(m[1]);
  const last = Number(m[2]);
  if (first < 1024 || last > 65535) throw new Error(`${raw} must lie within 1024-65535`);
  if (last < first) throw new Error(`${raw} ends before it starts`);
  const firstEven = first + (first % 2);
  if (firstEven + 1 > last) throw new Error(`${raw} holds no even port with its odd neighbour (RTP + RTCP)`);
  return { first, last };
}

export class PortAllocator {
  private readonly pairs: number[] = [];
  private readonly inUse = new Set<number>();
  private next = 0;

  constructor(readonly range: PortRange) {
    for (let p = range.first + (range.first % 2); p + 1 <= range.last; p += 2) this.pairs.push(p);
  }

  get capacity(): number {
    return this.pairs.length;
  }

  get used(): number {
    return this.inUse.size;
  }

  /** An even RTP port whose odd neighbour (RTCP) is reserved with it. Throws when none is left. */
  allocate(): number {
    for (let i = 0; i < this.pairs.length; i++) {
      const port = this.pairs[(this.next + i) % this.pairs.length]!;
      if (!this.inUse.has(port)) {
        this.inUse.add(port);
        this.next = (this.next + i + 1) % this.pairs.length;
        return port;
      }
    }
    throw new PortRangeExhaustedError(this.range, this.inUse.size);
  }

  /** Takes a specific pair (a restarted worker re-opening the endpoints the SFU already sends to).
   *  False when it is outside the range, odd, or already in use here. */
  claim(rtpPort: number): boolean {
    if (!this.pairs.includes(rtpPort) || this.inUse.has(rtpPort)) return false;
    this.inUse.add(rtpPort);
    return true;
  }

  /** Returns a pair; releasing a port that is not allocated is a bug in the caller. */
  release(rtpPort: number): void {
    if (!this.inUse.delete(rtpPort)) throw new Error(`RTP port ${rtpPort} was not allocated`);
  }

  isAllocated(rtpPort: number): boolean {
    return this.inUse.has(rtpPort);
  }
}
