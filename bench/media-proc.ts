// What the media benchmark reads from /proc (Linux only): CPU time and peak resident memory of a
// process or a process tree, sampled by pid while the processes run. A process that has exited
// reads as undefined, never as zero, so a lost sample cannot look like a cheap pipeline.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of utime/stime in /proc/<pid>/stat; 100 on every Linux this runs on. */
const CLK_TCK = 100;

interface Stat {
  /** The command name (a thread's name for a task). */
  name: string;
  ppid: number;
  cpuSeconds: number;
}

/** /proc/<pid>/stat, or /proc/<pid>/task/<tid>/stat with `tid`. */
function readStat(pid: number, tid?: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return { name: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), ppid: Number(rest[1]), cpuSeconds: (Number(rest[11]) + Number(rest[12])) / CLK_TCK };
}

/** utime + stime of one process (all its threads), in seconds. */
export function processCpuSeconds(pid: number): number | undefined {
  return readStat(pid)?.cpuSeconds;
}

/** The pid and every live descendant of it. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(Number(name));
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** Sum of utime + stime over a process tree as it is now (undefined when the root is gone). */
export function treeCpuSeconds(pid: number): number | undefined {
  if (readStat(pid) === undefined) return undefined;
  return processTree(pid).reduce((sum, p) => sum + (processCpuSeconds(p) ?? 0), 0);
}

/** One numeric field of `/proc/{pid}/status` (`VmHWM`, `VmRSS` in kB, `Threads`); undefined when the process is gone. */
export function procStatus(pid: number, field: string): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** VmHWM (peak resident set) of one process, in MB. */
export function peakRssMb(pid: number): number | undefined {
  const kb = procStatus(pid, 'VmHWM');
  return kb === undefined ? undefined : kb / 1024;
}

/** CPU seconds of each live thread of one process, by thread id, with the thread's name (comm). */
export function threadCpuSeconds(pid: number): Map<number, { name: string; cpuSeconds: number }> {
  const out = new Map<number, { name: string; cpuSeconds: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const stat = readStat(pid, Number(tid));
    if (!stat) continue; // the thread ended between the listing and the read
    const name = stat.name;
    // schedstat's first field is the thread's time on a CPU in nanoseconds: a thread costing 0.001
    // CPU-s/s is 1 clock tick in 10 s of utime + stime, too coarse to compare.
    let cpuSeconds = stat.cpuSeconds;
    try {
      cpuSeconds = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
    } catch {
      // no schedstat (kernel without CONFIG_SCHEDSTATS): the ticks above
    }
    out.set(Number(tid), { name, cpuSeconds });
  }
  return out;
}

/**
 * CPU seconds per thread name between two samples of `threadCpuSeconds`: threads alive at both
 * ends only (a thread that started or ended in between is left out, its CPU is in the process
 * total), threads of the same name summed.
 */
export function threadCpuDelta(a: ReturnType<typeof threadCpuSeconds>, b: ReturnType<typeof threadCpuSeconds>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [tid, end] of b) {
    const start = a.get(tid);
    if (!start) continue;
    out.set(end.name, (out.get(end.name) ?? 0) + end.cpuSeconds - start.cpuSeconds);
  }
  return out;
}

/**
 * UDP datagrams the kernel dropped because a socket's receive buffer was full (`RcvbufErrors` of
 * `/proc/net/snmp`), counted for the whole network namespace since boot; undefined where the file
 * or the field is missing. Only one implementation runs at a time, so what grows during its window
 * is RTP that it (or Tapedeck's ingest) did not read in time: input it never decoded.
 */
export function udpReceiveBufferErrors(snmp?: string): number | undefined {
  let text = snmp;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/net/snmp', 'utf8');
    } catch {
      return undefined;
    }
  }
  const lines = text.split('\n').filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) return undefined;
  const names = lines[0]!.trim().split(/\s+/);
  const values = lines[1]!.trim().split(/\s+/);
  const i = names.indexOf('RcvbufErrors');
  return i < 1 || values[i] === undefined ? undefined : Number(values[i]);
}
