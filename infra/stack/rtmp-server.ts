// A real RTMP server for tests and benchmarks: Debian's nginx with libnginx-mod-rtmp, on a free loopback port,
// configured from a temp folder (daemon off, one process, pid/log/record paths in the folder).
// Every stream published to `rtmp://127.0.0.1:{port}/live/{key}` is recorded to
// `{dir}/rec/{key}-{unix time}.flv`. Killed and restarted by pid on the same port. With `tls`, nginx's
// stream module also terminates TLS on a second port and passes the bytes to the RTMP one:
// `rtmps://127.0.0.1:{tlsPort}/live/{key}` (libnginx-mod-stream).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, isListening, waitUntil } from './net';

const MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

export class RtmpServer {
  private proc: ChildProcess | null = null;
  private log = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
    /** The TLS port in front of `port` (0: none). */
    readonly tlsPort = 0,
  ) {}

  static available(): string | null {
    if (!existsSync('/usr/sbin/nginx')) return 'nginx is not installed (infra/apt-packages.txt)';
    if (!existsSync(MODULE)) return 'libnginx-mod-rtmp is not installed (infra/apt-packages.txt)';
    return null;
  }

  /** Why `start({ tls })` cannot run here, or null. */
  static tlsAvailable(): string | null {
    return RtmpServer.available() ?? (existsSync(STREAM_MODULE) ? null : 'libnginx-mod-stream is not installed (infra/apt-packages.txt)');
  }

  /**
   * `record: false` only relays (a benchmark's sink), no files written. `tls`: PEM files of the
   * certificate (chain) and key that the TLS port presents.
   */
  static async start(opts: { record?: boolean; tls?: { certFile: string; keyFile: string } } = {}): Promise<RtmpServer> {
    const record = opts.record ?? true;
    const dir = mkdtempSync(join(tmpdir(), 'tapedeck-rtmp-'));
    mkdirSync(join(dir, 'rec'));
    const port = await freePort();
    const server = new RtmpServer(port, dir, opts.tls ? await freePort() : 0);
    const tls = opts.tls
      ? [
          'stream {',
          '  server {',
          `    listen 127.0.0.1:${server.tlsPort} ssl;`,
          `    ssl_certificate ${opts.tls.certFile};`,
          `    ssl_certificate_key ${opts.tls.keyFile};`,
          `    proxy_pass 127.0.0.1:${port};`,
          '  }',
          '}',
        ]
      : [];
    writeFileSync(
      join(dir, 'nginx.conf'),
      [
        `load_module ${MODULE};`,
        ...(opts.tls ? [`load_module ${STREAM_MODULE};`] : []),
        'daemon off;',
        'master_process off;',
        'worker_processes 1;',
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log info;`,
        'events { worker_connections 64; }',
        'rtmp {',
        '  server {',
        `    listen 127.0.0.1:${server.port};`,
        '    chunk_size 4096;',
        '    application live {',
        '      live on;',
        ...(record ? ['      record all;', `      record_path ${dir}/rec;`, '      record_unique on;'] : ['      record off;']),
        '    }',
        '  }',
        '}',
        ...tls,
        '',
      ].join('\n'),
    );
    await server.restart();
    return server;
  }

  url(key: string): string {
    return `rtmp://127.0.0.1:${this.port}/live/${key}`;
  }

  /** The same stream over TLS (started with `tls`). */
  tlsUrl(key: string): string {
    if (!this.tlsPort) throw new Error('this RTMP server was started without tls');
    return `rtmps://127.0.0.1:${this.tlsPort}/live/${key}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts nginx (again, on the same port) and waits until it accepts connections. */
  async restart(): Promise<void> {
    if (this.proc) throw new Error('the RTMP server is already running');
    const proc = spawn('/usr/sbin/nginx', ['-p', this.dir, '-c', join(this.dir, 'nginx.conf'), '-e', join(this.dir, 'error.log')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', (c: Buffer) => (this.log += c.toString()));
    proc.stderr?.on('data', (c: Buffer) => (this.log += c.toString()));
    this.proc = proc;
    let exited = false;
    proc.once('exit', () => (exited = true));
    await waitUntil(async () => (await isListening('127.0.0.1', this.port)) && (!this.tlsPort || (await isListening('127.0.0.1', this.tlsPort))), {
      timeoutMs: 15_000,
      what: 'nginx-rtmp did not listen',
      abort: () => (exited ? `nginx exited: ${this.log}` : undefined),
    });
  }

  /** SIGKILL by pid: the destination drops mid-stream, as a crashed ingest server would. */
  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
  }

  /** Recorded FLV files of a stream key, oldest first, with their sizes. */
  recordings(key: string): Array<{ file: string; size: number }> {
    const rec = join(this.dir, 'rec');
    return readdirSync(rec)
      .filter((f) => f.startsWith(`${key}-`) && f.endsWith('.flv'))
      .sort()
      .map((f) => ({ file: join(rec, f), size: statSync(join(rec, f)).size }));
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
