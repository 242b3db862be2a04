// The one module that reads the process environment. Everything else receives an `Env` snapshot
// and turns it into typed configuration through a config module (apps/*/config.ts).
export type Env = Readonly<Record<string, string | undefined>>;

export function processEnv(): Env {
  const snapshot = Object.freeze({ ...process.env });
  // @google-cloud/storage reads STORAGE_EMULATOR_HOST itself and takes it as the full JSON API
  // base URL (".../storage/v1"), unlike Google's other clients and fake-gcs-server's docs, which
  // give the server origin. Tapedeck's config passes the endpoint explicitly, so the variable is
  // taken out of the live environment to stop the library from overriding it.
  delete process.env.STORAGE_EMULATOR_HOST;
  return snapshot;
}

/** What a child process inherits: the live environment as it is now (without what processEnv took out). */
export function inheritedEnv(): Env {
  return Object.freeze({ ...process.env });
}
