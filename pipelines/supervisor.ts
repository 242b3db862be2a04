// The parent side of a pipeline host: spawns one child process per recording, sends it
// HostCommands, turns its HostEvents into typed events, watches it with ping/pong, and reports a
// crash (exit code / signal) as an event. Never throws into the parent because the child died.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadVariable } from '../apps/common/config';
import { inheritedEnv, type Env } from '../apps/common/env';
import { TAPEDECK_OPUS_SIZE_CACHE } from '../apps/common/variables';
import { TOOLS_LIB } from '../infra/stack/tools';
import type { RecordingConfig } from './config';
import type { HostCommand, HostEvent, InputPorts } from './protocol';

export const HOST_SCRIPT = join(__dirname, 'host', 'pipeline-host.js');
/**
 * V8 flags for the pipeline host. Its JavaScript drives the pipeline (commands, bus messages,
 * stats) and sends the live RTMP destinations a batch of FLV tags per 200-ms poll, never a frame
 * at a time, so V8's lite mode (no optimizing compiler, lazier feedback) trades a little of that
 * thread's CPU for memory. Measured with `bench:media`, 4 and 9 hosts: peak memory 5-7 MB lower;
 * the host's JS thread 0.0113 → 0.0131 CPU-s/s at 9 hosts, under 1% of the process. (The RTMP
 * sending is why its feed is polled every 200 ms rather than 50: see FEED_POLL_MS.)
 * `--expose-gc`: the host asks for a collection after it takes elements out of the pipeline (see
 * `collectSoon` in the host), since only that frees them.
 */
export const HOST_NODE_FLAGS: readonly string[] = ['--lite-mode', '--expose-gc'];

/**
 * Preloaded into every pipeline host: answers libopus's `opus_decoder_get_size` from a cache, so
 * decoding an Opus packet no longer probes the CPU (CPUID, a trap to the hypervisor on a virtual
 * machine). Built by infra/install.sh from infra/native/opus-size-cache.c, which says why.
 */
export const OPUS_SIZE_CACHE_LIB = join(TOOLS_LIB, 'libtapedeck-opus-size-cache.so');

export type OpusSizeCacheState = 'on' | 'off' | 'missing';

/** TAPEDECK_OPUS_SIZE_CACHE from an environment (default on); a value that is not a boolean throws, naming it. */
export function opusSizeCacheEnabled(env: Env): boolean {
  return loadVariable(env, TAPEDECK_OPUS_SIZE_CACHE);
}

/** Whether hosts get the preload: `off` (TAPEDECK_OPUS_SIZE_CACHE=false), `missing` (not built) or `on`. */
export function opusSizeCacheState(enabled: boolean, lib = OPUS_SIZE_CACHE_LIB): OpusSizeCacheState {
  if (!enabled) return 'off';
  return existsSync(lib) ? 'on' : 'missing';
}

/** The environment a host runs with: `env`, with the Opus size cache first in LD_PRELOAD when it is on. */
export function hostEnvironment(env: Env, lib = OPUS_SIZE_CACHE_LIB): Env {
  if (opusSizeCacheState(opusSizeCacheEnabled(env), lib) !== 'on') return env;
  const preload = (env.LD_PRELOAD ?? '').split(/[:\s]+/).filter(Boolean);
  if (preload.includes(lib)) return env;
  return { ...env, LD_PRELOAD: [lib, ...preload].join(':') };
}

export interface SupervisorOptions {
  /** How often the child is pinged, and how long without a pong counts as hung. */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  /**
   * The child's whole environment (e.g. the parent's Env plus GST_DEBUG); default: the parent's.
   * Either way the Opus size cache is added to its LD_PRELOAD (hostEnvironment).
   */
  env?: Record<string, string>;
  /** Where the child's stdout/stderr go (GStreamer prints there). */
  stdio?: 'inherit' | 'ignore' | 'pipe';
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** False when the child exited without a `stopped` event: a crash or a kill. */
  clean: boolean;
  /** Why, in words, for logs and the recording activity's failure. */
  reason: string;
}

export interface SupervisorEvents {
  event: [HostEvent];
  exit: [ExitInfo];
  hung: [{ silentMs: number }];
}

export class PipelineSupervisor extends EventEmitter<SupervisorEvents> {
  private child: ChildProcess | null = null;
  private pingId = 0;
  private lastPong = Date.now();
  private watchdog: NodeJS.Timeout | null = null;
  private stopped: HostEvent | null = null;
  private exitInfo: ExitInfo | null = null;
  readonly exited: Promise<ExitInfo>;
  private resolveExit!: (e: ExitInfo) => void;

  constructor(private readonly options: SupervisorOptions = {}) {
    super();
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.exitInfo === null;
  }

  /** Forks the host, starts the recording and resolves with its input ports (rejects if it dies first). */
  start(config: RecordingConfig, readyTimeoutMs = 15_000): Promise<{ pid: number; inputs: InputPorts[]; startedAt: string }> {
    if (this.child) throw new Error('supervisor already started');
    const child = fork(HOST_SCRIPT, [], {
      env: hostEnvironment(this.options.env ?? inheritedEnv()) as NodeJS.ProcessEnv,
      execArgv: [...process.execArgv, ...HOST_NODE_FLAGS],
      stdio: ['ignore', this.options.stdio ?? 'inherit', this.options.stdio ?? 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    child.on('message', (m: HostEvent) => {
      if (m.type === 'pong') this.lastPong = Date.now();
      if (m.type === 'pong' && m.id < 0) return;
      if (m.type === 'stopped') this.stopped = m;
      this.emit('event', m);
    });
    // A failed send (child gone) is reported through 'exit', never thrown.
    child.on('error', () => undefined);
    // 'close', not 'exit': 'exit' can come before the last IPC messages (the final
    // fragment-closed, stopped) have been read; 'close' waits for the IPC channel to drain too.
    child.on('close', (code, signal) => {
      if (this.watchdog) clearInterval(this.watchdog);
      const clean = this.stopped !== null && code !== null;
      const reason = clean
        ? `stopped${(this.stopped as { forced?: boolean }).forced ? ' (forced)' : ''}`
        : signal
          ? `pipeline host killed by ${signal}`
          : `pipeline host exited with code ${code} without stopping`;
      this.exitInfo = { code, signal, clean, reason };
      this.emit('exit', this.exitInfo);
      this.resolveExit(this.exitInfo);
    });
    const interval = this.options.pingIntervalMs ?? 1000;
    const timeout = this.options.pingTimeoutMs ?? 5000;
    this.watchdog = setInterval(() => {
      const silentMs = Date.now() - this.lastPong;
      if (silentMs > timeout) this.emit('hung', { silentMs });
      this.send({ type: 'ping', id: ++this.pingId });
    }, interval);
    this.watchdog.unref();

    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`pipeline host not ready within ${readyTimeoutMs} ms`)), readyTimeoutMs);
      const onEvent = (e: HostEvent) => {
        if (e.type === 'ready') done(null, e);
        else if (e.type === 'error' && e.fatal) done(new Error(`pipeline host failed to start: ${e.message}`));
      };
      const onExit = (x: ExitInfo) => done(new Error(`pipeline host exited before ready: ${x.reason}`));
      const done = (err: Error | null, e?: Extract<HostEvent, { type: 'ready' }>) => {
        clearTimeout(timer);
        this.off('event', onEvent);
        this.off('exit', onExit);
        if (err) reject(err);
        else resolve({ pid: e!.pid, inputs: e!.inputs, startedAt: e!.startedAt });
      };
      this.on('event', onEvent);
      this.on('exit', onExit);
      this.send({ type: 'start', config });
    });
  }

  /** Sends a command; false when the host is gone (the exit event says why). */
  send(cmd: HostCommand): boolean {
    const child = this.child;
    if (!child || !child.connected || this.exitInfo) return false;
    try {
      child.send(cmd);
      return true;
    } catch {
      return false;
    }
  }

  /** Waits for the next event matching `pred`. */
  next<T extends HostEvent['type']>(type: T, timeoutMs: number, pred: (e: Extract<HostEvent, { type: T }>) => boolean = () => true): Promise<Extract<HostEvent, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('event', on);
        reject(new Error(`no ${type} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (e: HostEvent) => {
        if (e.type === type && pred(e as Extract<HostEvent, { type: T }>)) {
          clearTimeout(timer);
          this.off('event', on);
          resolve(e as Extract<HostEvent, { type: T }>);
        }
      };
      this.on('event', on);
    });
  }

  /**
   * Graceful stop: `stop` command (EOS), then wait for the exit. The host enforces its own
   * stopTimeoutMs; `killAfterMs` is the parent's last resort if the host does not exit at all.
   */
  async stop(reason: string, killAfterMs = 30_000): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    this.send({ type: 'stop', reason });
    const timer = setTimeout(() => this.kill('SIGKILL'), killAfterMs);
    const info = await this.exited;
    clearTimeout(timer);
    return info;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child && !this.exitInfo) this.child.kill(signal);
  }
}
