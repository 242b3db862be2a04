// A child process the stack owns: started in its own process group with output to a log file,
// stopped with SIGTERM to the whole group, then SIGKILL after a grace period.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Env } from '../../apps/common/env';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env: Env;
  cwd?: string;
  logFile: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ManagedProcess {
  readonly exited: Promise<ExitInfo>;
  private exit: ExitInfo | undefined;

  private constructor(
    readonly spec: ProcessSpec,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      child.once('error', (err) => {
        this.exit = { code: -1, signal: null };
        this.spawnError = err;
        resolve(this.exit);
      });
    });
  }

  spawnError: Error | undefined;

  static start(spec: ProcessSpec): ManagedProcess {
    mkdirSync(dirname(spec.logFile), { recursive: true });
    const fd = openSync(spec.logFile, 'a');
    try {
      const child = spawn(spec.command, spec.args, {
        cwd: spec.cwd,
        env: spec.env as NodeJS.ProcessEnv,
        stdio: ['ignore', fd, fd],
        detached: true, // own process group: Ctrl-C reaches only the stack, which stops children in order
      });
      return new ManagedProcess(spec, child);
    } finally {
      closeSync(fd);
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Why the process is not running, for error messages; undefined while it runs. */
  deathReason(): string | undefined {
    if (this.exit === undefined) return undefined;
    if (this.spawnError) return `could not start ${this.spec.command}: ${this.spawnError.message}`;
    const how = this.exit.signal ? `signal ${this.exit.signal}` : `exit code ${this.exit.code}`;
    return `exited with ${how}; last log lines (${this.spec.logFile}):\n${this.tail(15)}`;
  }

  tail(lines: number): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.pid === undefined) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // the group is already gone
    }
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`. Resolves once the process exited. */
  async stop(graceMs: number): Promise<ExitInfo & { forced: boolean }> {
    if (this.exit) {
      this.signalGroup('SIGKILL'); // reap anything the leader left behind
      return { ...this.exit, forced: false };
    }
    this.signalGroup('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const forced = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (forced) this.signalGroup('SIGKILL');
    const info = await this.exited;
    this.signalGroup('SIGKILL');
    return { ...info, forced };
  }
}
