// Helpers to run a Tapedeck process in a test and read its output line by line.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface RunningProcess {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function run(command: string, args: string[], env: Record<string, string | undefined>, cwd?: string): RunningProcess {
  const child = spawn(command, args, { env: env as NodeJS.ProcessEnv, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let buffer = '';
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString();
    for (const w of [...waiters]) {
      const line = buffer.split('\n').find((l) => w.pattern.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    output: () => buffer,
    waitForLine(pattern, timeoutMs) {
      const existing = buffer.split('\n').find((l) => pattern.test(l));
      if (existing !== undefined) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${buffer}`)), timeoutMs);
        const done = (line: string) => {
          clearTimeout(timer);
          resolve(line);
        };
        waiters.push({ pattern, resolve: done });
        void exited.then(() => setTimeout(() => reject(new Error(`process exited before printing ${pattern}; output:\n${buffer}`)), 50));
      });
    },
  };
}
