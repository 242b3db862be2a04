// The local stack as processes: Temporal dev server, Pub/Sub emulator, GCS emulator, then the API
// and a worker. Starts what is not already answering, provisions the bucket and topics, waits
// until each component answers, and stops what it started in reverse order.
import { join } from 'node:path';
import { createPubSub, createStorage } from '../../apps/common/clients';
import type { Env } from '../../apps/common/env';
import {
  apiComponent,
  gcsComponent,
  moderatorComponent,
  pubsubComponent,
  serviceEnv,
  temporalComponent,
  workerComponent,
  type ComponentName,
  type ComponentSpec,
  type PubsubEmulatorKind,
  type StackPorts,
} from './components';
import { isListening, waitUntil } from './net';
import { ManagedProcess } from './process';
import { provision } from './provision';

export interface StackOptions {
  /** Base environment of the child processes (PATH and friends). */
  env: Env;
  dataDir: string;
  ports: StackPorts;
  projectId: string;
  bucket: string;
  pubsubEmulator: PubsubEmulatorKind;
  /** Value of TAPEDECK_API_TOKENS handed to the API. */
  apiTokens?: string;
  /** Value of TAPEDECK_STREAM_KEY_SECRET handed to the API and the workers (the same on both). */
  streamKeySecret?: string;
  /** Components to run; default all six. */
  include?: ComponentName[];
  /** Use a server already answering on a component's port instead of failing. */
  reuse: boolean;
  startupTimeoutMs: number;
  stopGraceMs?: number;
  onEvent?: (event: StackEvent) => void;
}

export type StackEvent =
  | { kind: 'starting' | 'up' | 'reused' | 'stopping' | 'stopped'; component: ComponentName; detail: string }
  | { kind: 'provisioned'; detail: string };

export interface RunningComponent {
  spec: ComponentSpec;
  process: ManagedProcess | undefined;
  reused: boolean;
}

const INFRA: ComponentName[] = ['temporal', 'pubsub', 'gcs'];
const SERVICES: ComponentName[] = ['api', 'worker', 'moderator'];

/** The moderation role's token from a TAPEDECK_API_TOKENS value (`role:token,…`). */
function moderationToken(tokens: string | undefined): string | undefined {
  for (const pair of (tokens ?? '').split(',')) {
    const [role, token] = pair.split(/:(.*)/s);
    if (role?.trim() === 'moderation' && token) return token.trim();
  }
  return undefined;
}

export class LocalStack {
  readonly components = new Map<ComponentName, RunningComponent>();
  /** The contract's environment variables pointing at this stack. */
  readonly clientEnv: Record<string, string>;
  private stopping: Promise<void> | undefined;
  private readonly include: Set<ComponentName>;

  constructor(private readonly opts: StackOptions) {
    this.include = new Set(opts.include ?? [...INFRA, ...SERVICES]);
    this.clientEnv = serviceEnv(opts.ports, opts.projectId, opts.bucket);
  }

  get logDir(): string {
    return join(this.opts.dataDir, 'logs');
  }

  private emit(event: StackEvent): void {
    this.opts.onEvent?.(event);
  }

  private specFor(name: ComponentName): ComponentSpec {
    const { ports, dataDir, env, projectId } = this.opts;
    const childEnv: Env = {
      ...env,
      ...this.clientEnv,
      ...(this.opts.apiTokens ? { TAPEDECK_API_TOKENS: this.opts.apiTokens } : {}),
      ...(this.opts.streamKeySecret ? { TAPEDECK_STREAM_KEY_SECRET: this.opts.streamKeySecret } : {}),
    };
    switch (name) {
      case 'temporal':
        return temporalComponent(ports, dataDir, env);
      case 'pubsub':
        return pubsubComponent(ports, this.opts.pubsubEmulator, projectId, env);
      case 'gcs':
        return gcsComponent(ports, dataDir, env);
      case 'api':
        return apiComponent(ports, childEnv);
      case 'worker':
        return workerComponent(ports, childEnv);
      case 'moderator':
        return moderatorComponent(ports, childEnv, moderationToken(this.opts.apiTokens));
    }
  }

  async start(): Promise<void> {
    try {
      await Promise.all(INFRA.filter((n) => this.include.has(n)).map((n) => this.startOne(n, this.opts.reuse)));
      if (this.include.has('gcs') && this.include.has('pubsub')) await this.provision();
      await Promise.all(SERVICES.filter((n) => this.include.has(n)).map((n) => this.startOne(n, false)));
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private async startOne(name: ComponentName, reuse: boolean): Promise<void> {
    if (this.stopping) throw new Error('stack is stopping');
    const spec = this.specFor(name);
    if (await isListening(spec.host, spec.port)) {
      const answers = await spec.ready().catch(() => false);
      if (answers && reuse) {
        this.components.set(name, { spec, process: undefined, reused: true });
        this.emit({ kind: 'reused', component: name, detail: `already running at ${spec.describe()}; using it` });
        return;
      }
      throw new Error(
        answers
          ? `${name}: already running at ${spec.host}:${spec.port} (another Tapedeck stack?); stop it or choose another port`
          : `${name}: port ${spec.host}:${spec.port} is in use by another program`,
      );
    }
    if (name === 'temporal' && (await isListening(this.opts.ports.host, this.opts.ports.temporalUi))) {
      throw new Error(`temporal: UI port ${this.opts.ports.host}:${this.opts.ports.temporalUi} is in use by another program`);
    }
    this.emit({ kind: 'starting', component: name, detail: spec.describe() });
    const proc = ManagedProcess.start(spec.process(this.logDir));
    this.components.set(name, { spec, process: proc, reused: false });
    await waitUntil(() => spec.ready(), {
      timeoutMs: this.opts.startupTimeoutMs,
      what: `${name} did not come up`,
      abort: () => proc.deathReason() ?? (this.stopping ? 'stack is stopping' : undefined),
    });
    this.emit({ kind: 'up', component: name, detail: spec.describe() });
  }

  private async provision(): Promise<void> {
    const cloud = {
      projectId: this.opts.projectId,
      storageEmulator: new URL(this.clientEnv.STORAGE_EMULATOR_HOST!),
      pubsubEmulator: { host: this.opts.ports.host, port: this.opts.ports.pubsub },
    };
    const pubsub = createPubSub(cloud);
    try {
      const r = await provision(createStorage(cloud), pubsub, this.opts.bucket);
      const created = Object.entries({ ...r.topics, ...r.subscriptions }).filter(([, s]) => s === 'created').length;
      this.emit({
        kind: 'provisioned',
        detail: `bucket ${this.opts.bucket} ${r.bucket}; ${Object.keys(r.topics).length} topics and ${Object.keys(r.subscriptions).length} subscriptions ready (${created} created)`,
      });
    } finally {
      await pubsub.close();
    }
  }

  /** Stops what this stack started: services first, then the servers. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const grace = this.opts.stopGraceMs ?? 15_000;
      for (const phase of [SERVICES, INFRA]) {
        await Promise.all(
          phase.map(async (name) => {
            const c = this.components.get(name);
            if (!c?.process) return;
            this.emit({ kind: 'stopping', component: name, detail: `pid ${c.process.pid}` });
            const r = await c.process.stop(grace);
            const how = r.forced
              ? `killed after ${grace} ms`
              : r.signal
                ? `signal ${r.signal}`
                : r.code === 143
                  ? 'exit code 143 (SIGTERM)'
                  : `exit code ${r.code}`;
            this.emit({ kind: 'stopped', component: name, detail: how });
          }),
        );
      }
    })();
    return this.stopping;
  }
}
