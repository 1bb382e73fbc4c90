/**
 * Storage servers as real processes (`sluice account-server|container-server|object-server`),
 * laid out as Swift's all-in-one development setup is: node i has one device
 * `d<i>` under `<dir>/node<i>`, and an account, a container and an object server of its own, each
 * on a fixed port, so the rings (one replica per node) stay valid when a server is killed and
 * started again on the same port. For scripts/kill-loop.ts and its CI test.
 *
 * The command line (src/cli/main.ts) is compiled once per run, with the esbuild settings of
 * `npm run build` (scripts/build.ts), into a directory of its own under the repository's tmp/
 * (where node_modules resolves), and each server runs that bundle: bin/sluice.js would run the
 * sources through tsx whenever a source file is newer than dist/, and a server then took 1-2 s
 * to start on an idle 2-core machine and 15-20 s on a busy one, long enough that most kills
 * left two replicas down. Every server runs in a process group of its own, and SIGKILL goes to
 * the group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRing, writeRingFile } from '../../src/common/ring';
import { buildBundle } from '../build';

export type StorageKind = 'account' | 'container' | 'object';
export const STORAGE_KINDS: readonly StorageKind[] = ['account', 'container', 'object'];

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A server on a loaded 2-core machine can take several seconds to start through tsx. */
const START_LIMIT_MS = 60_000;

export interface StorageProcess {
  kind: StorageKind;
  /** Node number, 1-based. */
  node: number;
  name: string;
  port: number;
  /** The --devices directory (holds the one device `device`). */
  devices: string;
  device: string;
  /** The running process, while it runs. */
  child?: ChildProcess;
  exited?: Promise<void>;
  starts: number;
  kills: number;
}

export interface StorageProcessesOptions {
  /** Holds etc/ (swift.conf, rings) and node<i>/d<i>; created if missing. */
  dir: string;
  /** Nodes, and so replicas of every ring (default 3). */
  nodes?: number;
  partPower?: number;
  host?: string;
  /** Seconds the object server waits on container servers for its updates (default 3). */
  nodeTimeout?: number;
}

/**
 * `n` ports nothing listens on, below the kernel's ephemeral range (32768 and up on Linux): a
 * killed server's port must stay free for its restart, and a port in that range can meanwhile be
 * taken as the local end of some outgoing connection. Each is held until all are found.
 */
async function freePorts(host: string, n: number): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  let port = 20_000 + Math.floor(Math.random() * 10_000);
  while (ports.length < n && port < 32_768) {
    const s = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.listen(port, host, () => resolve(true));
    });
    if (bound) {
      held.push(s);
      ports.push(port);
    }
    port++;
  }
  await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  if (ports.length < n) throw new Error(`no ${n} free ports below 32768 on ${host}`);
  return ports;
}

export class StorageProcesses {
  readonly swiftDir: string;
  readonly servers: StorageProcess[] = [];
  /** The compiled command line and the file that runs it. */
  private cliDir = '';
  private runner = '';
  private readonly host: string;
  private readonly nodeTimeout: number;
  private stopping = false;
  private readonly onExit = () => {
    for (const s of this.servers) this.signalGroup(s);
    if (this.cliDir) rmSync(this.cliDir, { recursive: true, force: true });
  };

  private constructor(
    readonly dir: string,
    opts: StorageProcessesOptions,
  ) {
    this.swiftDir = join(dir, 'etc');
    this.host = opts.host ?? '127.0.0.1';
    this.nodeTimeout = opts.nodeTimeout ?? 3;
    // Never leave servers behind, whatever ends this process.
    process.on('exit', this.onExit);
  }

  /** Compiles the command line, writes swift.conf and the three rings; starts nothing. */
  static async create(opts: StorageProcessesOptions): Promise<StorageProcesses> {
    const sp = new StorageProcesses(opts.dir, opts);
    const nodes = opts.nodes ?? 3;
    mkdirSync(join(ROOT, 'tmp'), { recursive: true });
    sp.cliDir = mkdtempSync(join(ROOT, 'tmp', 'storage-processes-'));
    await buildBundle('src/cli/main.ts', join(sp.cliDir, 'main.mjs'));
    // What bin/sluice.js does with the bundle.
    sp.runner = join(sp.cliDir, 'run.mjs');
    writeFileSync(sp.runner, "process.setSourceMapsEnabled(true);\nconst code = await (await import('./main.mjs')).run(process.argv.slice(2));\nif (code !== undefined) process.exitCode = code;\n");
    mkdirSync(sp.swiftDir, { recursive: true });
    const ports = await freePorts(sp.host, nodes * STORAGE_KINDS.length);
    writeFileSync(
      join(sp.swiftDir, 'swift.conf'),
      `[swift-hash]\nswift_hash_path_prefix = ${randomBytes(8).toString('hex')}\nswift_hash_path_suffix = ${randomBytes(8).toString('hex')}\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n`,
    );
    for (const kind of STORAGE_KINDS) {
      for (let node = 1; node <= nodes; node++) {
        const devices = join(opts.dir, `node${node}`);
        mkdirSync(join(devices, `d${node}`), { recursive: true });
        sp.servers.push({ kind, node, name: `${kind}-${node}`, port: ports.shift()!, devices, device: `d${node}`, starts: 0, kills: 0 });
      }
      const devs = sp.of(kind).map((s) => ({ region: 1, zone: s.node, ip: sp.host, port: s.port, device: s.device, weight: 1 }));
      writeRingFile(join(sp.swiftDir, `${kind}.ring.gz`), buildRing({ partPower: opts.partPower ?? 6, replicas: nodes, devices: devs }));
    }
    return sp;
  }

  of(kind: StorageKind): StorageProcess[] {
    return this.servers.filter((s) => s.kind === kind);
  }

  byPort(port: number): StorageProcess | undefined {
    return this.servers.find((s) => s.port === port);
  }

  /** Starts the server on its port and resolves once it says it listens. */
  async start(s: StorageProcess): Promise<void> {
    if (s.child) throw new Error(`${s.name} is already running`);
    const args = [this.runner, `${s.kind}-server`, '--bind', this.host, '--port', String(s.port), '--devices', s.devices, '--swift-dir', this.swiftDir, '--node-timeout', String(this.nodeTimeout)];
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    s.child = child;
    s.starts++;
    s.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    await new Promise<void>((resolve, reject) => {
      const limit = setTimeout(() => reject(new Error(`${s.name} did not start within ${START_LIMIT_MS} ms; stderr:\n${stderr}`)), START_LIMIT_MS);
      const listening = (b: Buffer) => {
        stdout += b.toString();
        if (!stdout.includes(' listening on ')) return;
        clearTimeout(limit);
        child.stdout!.off('data', listening);
        resolve();
      };
      child.stdout!.on('data', listening);
      void s.exited!.then(() => {
        clearTimeout(limit);
        reject(new Error(`${s.name} exited while starting; stderr:\n${stderr}`));
      });
    }).catch(async (err: unknown) => {
      this.signalGroup(s);
      await s.exited;
      s.child = undefined;
      throw err;
    });
    // Keep draining its output so a chatty server never blocks on a full pipe.
    child.stdout!.resume();
    void s.exited.then(() => {
      if (s.child === child) s.child = undefined;
    });
  }

  /** SIGKILL to the server's process group; resolves once the server process is gone (its port free). */
  async kill(s: StorageProcess): Promise<void> {
    if (!s.child) return;
    s.kills++;
    this.signalGroup(s);
    await s.exited;
    s.child = undefined;
  }

  async startAll(): Promise<void> {
    await Promise.all(this.servers.filter((s) => !s.child).map((s) => this.start(s)));
  }

  async stopAll(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await Promise.all(
      this.servers.map(async (s) => {
        this.signalGroup(s);
        await s.exited;
        s.child = undefined;
      }),
    );
    process.off('exit', this.onExit);
    rmSync(this.cliDir, { recursive: true, force: true });
  }

  /** Temp files left in the object devices' tmp directories (a killed writer leaves its own). */
  tmpFiles(): string[] {
    return this.objectDeviceEntries(/^tmp(-\d+)?$/);
  }

  /** Object directories the object servers moved aside as corrupt. */
  quarantined(): string[] {
    return this.objectDeviceEntries(/^objects(-\d+)?$/, 'quarantined');
  }

  /** The entries of the directories matching `sub` in each object device (under `parent`, if given). */
  private objectDeviceEntries(sub: RegExp, parent = ''): string[] {
    const out: string[] = [];
    for (const s of this.of('object')) {
      const base = join(s.devices, s.device, parent);
      for (const name of readdirSafe(base).filter((n) => sub.test(n))) {
        out.push(...readdirSafe(join(base, name)).map((f) => join(base, name, f)));
      }
    }
    return out;
  }

  private signalGroup(s: StorageProcess): void {
    if (!s.child?.pid) return;
    try {
      process.kill(-s.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
