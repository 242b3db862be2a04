// Typed configuration from environment variables: every variable Tapedeck reads is declared here
// once, with its default, its parser and a description (the README's configuration table mirrors
// this list, and a test keeps them in step). A process loads the subset it needs; a malformed
// value, or a TAPEDECK_* variable nobody declared (usually a typo), stops it with a message that
// names the variable.
import type { Env } from './env';

export class ConfigError extends Error {
  readonly type = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Parser<T> = (raw: string) => T;

interface VariableInit<T> {
  readonly name: string;
  /** Default, written as it would be in the environment. */
  readonly default?: string;
  readonly description: string;
  readonly parse: Parser<T>;
}

export interface Variable<T> extends VariableInit<unknown> {
  /** Unset is allowed and loads as undefined. */
  readonly optional: boolean;
  /** Phantom: the loaded type. */
  readonly __type?: T;
}

const registry = new Map<string, Variable<unknown>>();

function declare<T>(spec: Variable<T>): Variable<T> {
  if (registry.has(spec.name)) throw new Error(`variable ${spec.name} declared twice`);
  registry.set(spec.name, spec as Variable<unknown>);
  return spec;
}

/** A variable that always has a value: its default, or it is required when it has none. */
export function variable<T>(spec: VariableInit<T>): Variable<T> {
  return declare<T>({ ...spec, optional: false });
}

/** A variable that may stay unset (for example the emulator hosts: unset means real Google Cloud). */
export function optionalVariable<T>(spec: Omit<VariableInit<T>, 'default'>): Variable<T | undefined> {
  return declare<T | undefined>({ ...spec, optional: true });
}

export function declaredVariables(): Variable<unknown>[] {
  return [...registry.values()];
}

// ---- parsers ----------------------------------------------------------------------------------

const fail = (message: string): never => {
  throw new Error(message);
};

export const str: Parser<string> = (raw) => (raw.length > 0 ? raw : fail('must not be empty'));

export const int = (min: number, max: number): Parser<number> => (raw) => {
  if (!/^-?\d+$/.test(raw.trim())) fail(`"${raw}" is not a whole number`);
  const n = Number(raw);
  if (n < min || n > max) fail(`${n} is out of range ${min}..${max}`);
  return n;
};

export const port: Parser<number> = (raw) => {
  if (!/^\d+$/.test(raw.trim())) fail(`"${raw}" is not a port number`);
  const n = Number(raw);
  return n >= 1 && n <= 65535 ? n : fail(`${n} is not a port number (1..65535)`);
};

export const oneOf = <T extends string>(...values: T[]): Parser<T> => (raw) =>
  (values as string[]).includes(raw) ? (raw as T) : fail(`"${raw}" is not one of ${values.join(', ')}`);

export const bool: Parser<boolean> = (raw) => {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  return fail(`"${raw}" is not a boolean (true/false)`);
};

export interface HostPort {
  host: string;
  port: number;
}

const hostPattern = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)$/;

export const hostPort: Parser<HostPort> = (raw) => {
  const value = raw.replace(/^[a-z]+:\/\//, '');
  const m = /^(.*):(\d+)$/.exec(value);
  if (!m || !hostPattern.test(m[1]!)) return fail(`"${raw}" is not host:port`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: port(m[2]!) };
};

export const httpUrl: Parser<URL> = (raw) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail(`"${raw}" is not a URL`);
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : fail(`"${raw}" must be an http(s) URL`);
};

/** The storage emulator host may be given as a URL or as host:port (then http is assumed). */
export const emulatorUrl: Parser<URL> = (raw) => httpUrl(/^[a-z]+:\/\//.test(raw) ? raw : `http://${raw}`);

export const id: Parser<string> = (raw) =>
  /^[A-Za-z0-9_-]{1,64}$/.test(raw) ? raw : fail(`"${raw}" must match [A-Za-z0-9_-]{1,64}`);

export const bucketName: Parser<string> = (raw) =>
  /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(raw) ? raw : fail(`"${raw}" is not a valid bucket name`);

export const projectId: Parser<string> = (raw) =>
  /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(raw) ? raw : fail(`"${raw}" is not a valid project id`);

export const list = <T>(item: Parser<T>): Parser<T[]> => (raw) => {
  const parts = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) fail('must list at least one value');
  return parts.map((p, i) => {
    try {
      return item(p);
    } catch (e) {
      return fail(`item ${i + 1}: ${(e as Error).message}`);
    }
  });
};

// ---- loading ----------------------------------------------------------------------------------

export type ConfigValues<S extends Record<string, Variable<unknown>>> = {
  [K in keyof S]: S[K] extends Variable<infer T> ? T : never;
};

/**
 * Parses the given variables from `env`, collecting every problem before failing. Also rejects
 * TAPEDECK_* variables that no module declared, with the nearest declared name as a hint.
 */
export function loadConfig<S extends Record<string, Variable<unknown>>>(env: Env, specs: S): ConfigValues<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const read = readVariable(env, spec);
    if ('problem' in read) problems.push(read.problem);
    else out[key] = read.value;
  }
  problems.push(...unknownVariables(env));
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigValues<S>;
}

/**
 * One variable on its own, without the check for unknown ones: for a setting that a module reads
 * from an environment it hands on (the pipeline host's, pipelines/supervisor.ts).
 */
export function loadVariable<T>(env: Env, spec: Variable<T>): T {
  const read = readVariable(env, spec);
  if ('problem' in read) throw new ConfigError([read.problem]);
  return read.value;
}

/** A variable's value: parsed, its default when unset or empty, undefined when optional; or what is wrong. */
function readVariable<T>(env: Env, spec: Variable<T>): { value: T } | { problem: string } {
  const raw = env[spec.name];
  const value = raw === undefined || raw === '' ? spec.default : raw;
  if (value === undefined) return spec.optional ? { value: undefined as T } : { problem: `${spec.name}: required but not set (${spec.description})` };
  try {
    return { value: spec.parse(value) as T };
  } catch (e) {
    return { problem: `${spec.name}: ${(e as Error).message}` };
  }
}

function unknownVariables(env: Env): string[] {
  const known = [...registry.keys()];
  return Object.keys(env)
    .filter((name) => name.startsWith('TAPEDECK_') && !registry.has(name))
    .sort()
    .map((name) => {
      const hint = nearest(name, known);
      return `${name}: unknown variable${hint ? ` (did you mean ${hint}?)` : ''}`;
    });
}

function nearest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return bestDistance <= 3 ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** Runs `load`, and on a ConfigError prints it and exits with EX_CONFIG (78). */
export function loadOrExit<T>(processName: string, load: () => T): T {
  try {
    return load();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${processName}: ${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
}
