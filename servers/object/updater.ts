/**
 * Container updates from the object server and their durable retry (swift/obj/server.py
 * async_update + swift/obj/updater.py).
 *
 * After a PUT/POST/DELETE the object server tells each container replica about the row. An
 * update that fails (connection error, timeout or non-2xx) is saved as an "async pending":
 *   <device>/async_pending[-N]/<hash[-3:]>/<hash>-<timestamp>
 * Swift pickles these; we write JSON (atomically, fsynced) with the same fields
 * (`op`, `account`, `container`, `obj`, `headers`, optional `container_path`, `successes`) plus
 * `targets`: the container replicas ({host, device, partition}) still to be told, used when no
 * container ring is available to look the replicas up as Swift's updater does.
 *
 * The ObjectUpdater sweeps these files in the background: newest pending per object wins
 * (older ones are unlinked unsent, since a newer update carries all the information), and a
 * file is removed once every replica accepted it.
 */
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'undici';
import { quote } from '../../src/compat/quote';
import { bytesOf } from '../../src/compat/bytes';
import { Ring } from '../../src/common/ring';
import type { SwiftConf } from '../../src/common/swift-conf';
import { Timestamp } from '../../src/common/timestamp';
import { asyncDirName, tmpDirName, writeFileAtomic } from './diskfile';

export interface UpdateTarget {
  /** `ip:port` as the proxy sends in X-Container-Host. */
  host: string;
  device: string;
  partition: string;
}

export interface AsyncPending {
  op: 'PUT' | 'DELETE';
  account: string;
  container: string;
  obj: string;
  headers: Record<string, string>;
  container_path?: string | null;
  /** Ring device ids that already accepted this update (Swift's field). */
  successes?: number[];
  targets?: UpdateTarget[];
}

export interface UpdateResult {
  ok: boolean;
  status?: number;
  error?: string;
}

/** Sends container-row updates with Swift's connect and node timeouts. */
export class ContainerUpdateClient {
  private readonly agent: Agent;

  constructor(
    readonly connTimeout: number,
    readonly nodeTimeout: number,
  ) {
    this.agent = new Agent({
      connect: { timeout: Math.max(1, Math.round(connTimeout * 1000)) },
      headersTimeout: Math.max(1, Math.round(nodeTimeout * 1000)),
      bodyTimeout: Math.max(1, Math.round(nodeTimeout * 1000)),
      keepAliveTimeout: 4000,
    });
  }

  /**
   * `op /<device>/<partition><path>` to `ip:port`; `path` is `/<a>/<c>/<o>` unquoted.
   * Never throws: failures come back as { ok: false }.
   */
  async send(ip: string, port: number, device: string, partition: string, op: string, path: string, headers: Record<string, string>): Promise<UpdateResult> {
    const host = ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
    const wire: Record<string, string> = {};
    // Header values are text here; undici writes latin-1, so pass their bytes that way.
    for (const [k, v] of Object.entries(headers)) wire[k] = bytesOf(String(v));
    try {
      const res = await this.agent.request({
        origin: `http://${host}:${port}`,
        path: quote(`/${device}/${partition}${path}`),
        method: op as 'PUT',
        headers: wire,
        signal: AbortSignal.timeout(Math.round((this.connTimeout + this.nodeTimeout) * 1000)),
      });
      await res.body.dump().catch(() => undefined);
      return { ok: res.statusCode >= 200 && res.statusCode < 300, status: res.statusCode };
    } catch (err) {
      return { ok: false, error: (err as Error).message ?? String(err) };
    }
  }

  /** Sends to a `host` given as `ip:port` (Swift's rsplit(':', 1)). */
  async sendToHost(target: UpdateTarget, op: string, path: string, headers: Record<string, string>): Promise<UpdateResult> {
    const i = target.host.lastIndexOf(':');
    const port = Number(target.host.slice(i + 1));
    if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) return { ok: false, error: `bad container host ${target.host}` };
    let ip = target.host.slice(0, i);
    if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    return this.send(ip, port, target.device, target.partition, op, path, headers);
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }
}

export function asyncPendingPath(devicePath: string, policy: number, objHash: string, timestamp: Timestamp): string {
  return join(devicePath, asyncDirName(policy), objHash.slice(-3), `${objHash}-${timestamp.internal}`);
}

/**
 * Saves an update for the updater (Swift's pickle_async_update). If a pending for the same
 * object and timestamp exists, the targets still owed are merged so none is forgotten.
 */
export async function writeAsyncPending(devicePath: string, policy: number, objHash: string, timestamp: Timestamp, data: AsyncPending): Promise<string> {
  const path = asyncPendingPath(devicePath, policy, objHash, timestamp);
  let merged = data;
  try {
    const prev = JSON.parse(await fsp.readFile(path, 'utf8')) as AsyncPending;
    if (prev.targets?.length) {
      const key = (t: UpdateTarget) => `${t.host}/${t.device}/${t.partition}`;
      const seen = new Set((data.targets ?? []).map(key));
      merged = { ...data, targets: [...(data.targets ?? []), ...prev.targets.filter((t) => !seen.has(key(t)))] };
    }
  } catch {
    // no previous pending (or an unreadable one, which this replaces)
  }
  await writeFileAtomic(path, JSON.stringify(merged), join(devicePath, tmpDirName(policy)));
  return path;
}

export interface ObjectUpdaterOptions {
  devices: string;
  swiftConf: SwiftConf;
  swiftDir?: string;
  client: ContainerUpdateClient;
  /** Seconds between sweeps. */
  interval: number;
  /** Concurrent updates in flight per sweep. */
  concurrency?: number;
}

export interface SweepStats {
  successes: number;
  failures: number;
  unlinks: number;
  quarantines: number;
  errors: number;
}

/** Background retry of async pendings, as swift-object-updater. */
export class ObjectUpdater {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepStats> | undefined;
  private stopped = true;
  private ring: Ring | null | undefined;

  constructor(readonly opts: ObjectUpdaterOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(this.opts.interval * 1000);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.runOnce()
        .catch((err: unknown) => process.stderr.write(`object-updater: sweep failed: ${String(err)}\n`))
        .finally(() => this.schedule(this.opts.interval * 1000));
    }, delayMs);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One sweep over every device; concurrent callers share the sweep in progress. */
  runOnce(): Promise<SweepStats> {
    if (!this.running) {
      this.running = this.sweepAll().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private containerRing(): Ring | null {
    if (this.ring !== undefined) return this.ring;
    const path = this.opts.swiftDir ? join(this.opts.swiftDir, 'container.ring.gz') : undefined;
    try {
      this.ring = path && existsSync(path) ? Ring.load(path, this.opts.swiftConf.hash) : null;
    } catch (err) {
      process.stderr.write(`object-updater: cannot load ${path}: ${String(err)}\n`);
      this.ring = null;
    }
    return this.ring;
  }

  private async sweepAll(): Promise<SweepStats> {
    const stats: SweepStats = { successes: 0, failures: 0, unlinks: 0, quarantines: 0, errors: 0 };
    let devices: string[];
    try {
      devices = await fsp.readdir(this.opts.devices);
    } catch {
      return stats;
    }
    for (const dev of devices) {
      await this.sweepDevice(join(this.opts.devices, dev), stats);
    }
    return stats;
  }

  private async sweepDevice(devicePath: string, stats: SweepStats): Promise<void> {
    let entries: string[];
    try {
      entries = await fsp.readdir(devicePath);
    } catch {
      return;
    }
    const work: { path: string; policy: number; devicePath: string }[] = [];
    for (const dir of entries) {
      const m = /^async_pending(?:-(\d+))?$/.exec(dir);
      if (!m) continue;
      const policy = m[1] === undefined ? 0 : Number(m[1]);
      if (!this.opts.swiftConf.policies.some((p) => p.index === policy)) continue;
      const asyncDir = join(devicePath, dir);
      let prefixes: string[];
      try {
        prefixes = await fsp.readdir(asyncDir);
      } catch {
        continue;
      }
      for (const prefix of prefixes) {
        const prefixPath = join(asyncDir, prefix);
        let files: string[];
        try {
          files = (await fsp.readdir(prefixPath)).sort().reverse();
        } catch {
          continue;
        }
        let lastHash: string | undefined;
        for (const f of files) {
          const parts = f.split('-');
          if (parts.length !== 2) {
            stats.errors++;
            continue;
          }
          const path = join(prefixPath, f);
          if (parts[0] === lastHash) {
            // An older update for an object with a newer one pending: obsolete.
            await fsp.unlink(path).catch(() => undefined);
            stats.unlinks++;
            continue;
          }
          lastHash = parts[0];
          work.push({ path, policy, devicePath });
        }
      }
    }
    const concurrency = this.opts.concurrency ?? 8;
    let next = 0;
    const workers = Array.from({ length: Math.min(concurrency, work.length) }, async () => {
      while (next < work.length) {
        const item = work[next++]!;
        await this.processUpdate(item.devicePath, item.policy, item.path, stats);
      }
    });
    await Promise.all(workers);
  }

  private async processUpdate(devicePath: string, policy: number, path: string, stats: SweepStats): Promise<void> {
    let update: AsyncPending;
    try {
      update = JSON.parse(await fsp.readFile(path, 'utf8')) as AsyncPending;
      if (!update || typeof update !== 'object' || typeof update.op !== 'string' || typeof update.headers !== 'object') throw new Error('bad update');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      // Unreadable: move it aside as Swift quarantines bad pickles.
      stats.quarantines++;
      const dest = join(devicePath, 'quarantined', 'objects', path.split('/').pop()!);
      await fsp.mkdir(join(devicePath, 'quarantined', 'objects'), { recursive: true }).catch(() => undefined);
      await fsp.rename(path, dest).catch(() => undefined);
      return;
    }
    const headers: Record<string, string> = { ...update.headers };
    const setDefault = (name: string, value: string) => {
      if (!Object.keys(headers).some((k) => k.toLowerCase() === name.toLowerCase())) headers[name] = value;
    };
    for (const k of Object.keys(headers)) if (k.toLowerCase() === 'user-agent') delete headers[k];
    headers['User-Agent'] = `object-updater ${process.pid}`;
    setDefault('X-Backend-Storage-Policy-Index', String(policy));
    setDefault('X-Backend-Accept-Redirect', 'true');
    setDefault('X-Backend-Accept-Quoted-Location', 'true');
    let acct = update.account;
    let cont = update.container;
    if (update.container_path) {
      const i = update.container_path.indexOf('/');
      if (i > 0) {
        acct = update.container_path.slice(0, i);
        cont = update.container_path.slice(i + 1);
      }
    }
    const objPath = `/${acct}/${cont}/${update.obj}`;
    const ring = this.containerRing();
    let success = true;
    let changed = false;
    if (ring) {
      const { part, nodes } = ring.getNodes(acct, cont);
      const successes = update.successes ?? [];
      const results = await Promise.all(
        nodes
          .filter((n) => !successes.includes(n.id))
          .map(async (n) => ({ id: n.id, r: await this.opts.client.send(n.replication_ip ?? n.ip, n.replication_port ?? n.port, n.device, String(part), update.op, objPath, headers) })),
      );
      for (const { id, r } of results) {
        if (r.ok) {
          successes.push(id);
          changed = true;
        } else success = false;
      }
      update.successes = successes;
    } else {
      const targets = update.targets ?? [];
      if (targets.length === 0) {
        // Nowhere to send it without a container ring; keep it for when one appears.
        stats.failures++;
        return;
      }
      const results = await Promise.all(targets.map(async (t) => ({ t, r: await this.opts.client.sendToHost(t, update.op, objPath, headers) })));
      const remaining = results.filter((x) => !x.r.ok).map((x) => x.t);
      success = remaining.length === 0;
      changed = remaining.length !== targets.length;
      update.targets = remaining;
    }
    if (success) {
      stats.successes++;
      await fsp.unlink(path).catch(() => undefined);
      stats.unlinks++;
      // Drop the suffix directory if that was its last pending (fails harmlessly otherwise).
      await fsp.rmdir(join(path, '..')).catch(() => undefined);
    } else {
      stats.failures++;
      if (changed) await writeFileAtomic(path, JSON.stringify(update), join(devicePath, tmpDirName(policy))).catch(() => undefined);
    }
  }
}
