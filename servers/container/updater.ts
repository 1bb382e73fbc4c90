/**
 * The container updater: keeps the account servers' per-container stats (and so the account's
 * X-Account-Object-Count / -Bytes-Used and listing counts) current, as Swift's
 * swift-container-updater daemon does (swift/container/updater.py).
 *
 * Swift finds stale containers only by sweeping every container DB every 300 s. Sluice runs
 * inside the container server, so it also hears of each change as it happens:
 *
 *  - changed(file), called after object-row updates (and container PUT/POST/DELETE whose own
 *    account update did not land), queues the container; everything queued within
 *    `accountUpdateDelay` seconds is reported together, so a burst of row updates to one
 *    container costs one report per replica rather than one per object;
 *  - a periodic sweep (every `updaterInterval` seconds; the first one soon after start) walks
 *    every container DB on every device and reports those still dirty, which covers changes
 *    made before a restart and reports that never landed;
 *  - a failed report leaves the container dirty and is retried with exponential backoff
 *    (from accountUpdateDelay up to updaterInterval), as well as by every sweep.
 *
 * "Dirty" is Swift's test on the container DB: put/delete timestamp newer than, or object
 * count/bytes different from, what a majority of account replicas last accepted (the
 * reported_* columns). Reports go to the account ring's primaries for the account when
 * `<swiftDir>/account.ring.gz` exists (reloaded when it changes), else to the account replicas
 * the container was last PUT with (X-Account-Host/-Device/-Partition, stored in the DB).
 *
 * Work runs at most `concurrency` containers at a time, never holds a DB handle across an
 * await (so it cannot block request handling on a lock), and close() stops it: timers cleared,
 * reports in flight aborted and awaited.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { ContainerBroker, type ReportState } from './broker';
import { Ring, ringFileName } from '../../src/common/ring';
import type { HashPathConfig } from '../../src/common/hash-path';
import { quote } from '../../src/compat/quote';

/** One account replica: `ip:port` (IPv6 in brackets) and its device. */
export interface AccountTarget {
  host: string;
  device: string;
}

export interface AccountUpdateRequest {
  targets: AccountTarget[];
  partition: string;
  account: string;
  container: string;
  headers: Record<string, string>;
  dispatcher: Dispatcher;
  /** conn_timeout + node_timeout: the whole request to one replica is bounded by it. */
  timeoutMs: number;
  /** Aborts requests in flight (the updater's close()). */
  signal?: AbortSignal;
  log(msg: string): void;
}

/**
 * PUTs a container's stats to each account replica in parallel (the request of Swift's
 * account_update and container_report). Resolves to each replica's status, 0 for one that
 * could not be reached or did not answer in time; never rejects.
 */
export function sendAccountUpdates(r: AccountUpdateRequest): Promise<number[]> {
  return Promise.all(
    r.targets.map(async (t) => {
      const sep = t.host.lastIndexOf(':');
      const ip = sep < 0 ? '' : t.host.slice(0, sep).replace(/^\[(.*)\]$/, '$1');
      const port = sep < 0 ? '' : t.host.slice(sep + 1);
      if (!ip || !/^\d+$/.test(port)) {
        r.log(`ERROR account update failed with ${t.host}/${t.device}: bad account host`);
        return 0;
      }
      const timeout = AbortSignal.timeout(r.timeoutMs);
      try {
        // Origin and path apart, the path sent as quoted: a URL string would go through the
        // WHATWG parser, which drops `.`/`..` segments (also `%2e`), and a container named `..`
        // would be reported to `/<dev>/<part>/` instead (Swift's http_connect sends the path as is).
        const resp = await r.dispatcher.request({
          origin: `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}`,
          path: quote(`/${t.device}/${r.partition}/${r.account}/${r.container}`),
          method: 'PUT',
          headers: r.headers,
          signal: r.signal ? AbortSignal.any([timeout, r.signal]) : timeout,
        });
        await resp.body.dump();
        if ((resp.statusCode < 200 || resp.statusCode >= 300) && resp.statusCode !== 404) {
          r.log(`ERROR Account update failed with ${ip}:${port}/${t.device} (will retry later): Response ${resp.statusCode}`);
        }
        return resp.statusCode;
      } catch (err) {
        if (!r.signal?.aborted) r.log(`ERROR account update failed with ${ip}:${port}/${t.device} (will retry later): ${(err as Error).message}`);
        return 0;
      }
    }),
  );
}

/** Swift's majority_size: more than half of the replicas. */
export function majoritySize(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** True when a majority of replicas accepted a report (Swift's updater counts 2xx only). */
export function reportLanded(statuses: number[]): boolean {
  if (statuses.length === 0) return false;
  return statuses.filter((s) => s >= 200 && s < 300).length >= majoritySize(statuses.length);
}

export interface ContainerUpdaterOptions {
  /** The devices directory whose `<device>/containers` trees the sweep walks. */
  devices: string;
  /** Where account.ring.gz may be; without it reports use the stored X-Account-* targets. */
  swiftDir?: string;
  hash: HashPathConfig;
  dispatcher: Dispatcher;
  timeoutMs: number;
  /** Seconds between a change and its report (coalescing window). */
  accountUpdateDelay: number;
  /** Seconds between sweeps; 0 disables the updater entirely. */
  interval: number;
  /** Containers reported at once. */
  concurrency: number;
  /**
   * Runs fn synchronously on the container DB at `file` (a cached handle, or one opened and
   * closed around fn); undefined when there is no initialised DB there.
   */
  withBroker<T>(file: string, fn: (b: ContainerBroker) => T): T | undefined;
  log(msg: string): void;
}

type Outcome = 'reported' | 'clean' | 'gone' | 'unroutable' | 'failed';

/** The first sweep comes soon after start (a restart may have left unreported changes). */
const FIRST_SWEEP_MS = 5_000;
/** The sweep stops feeding the queue while this many containers wait in it. */
const MAX_QUEUED = 1_000;
const MIN_RETRY_MS = 100;

export class ContainerUpdater {
  readonly enabled: boolean;
  private readonly delayMs: number;
  private readonly intervalMs: number;
  private readonly ringPath: string | undefined;
  private ring: Ring | undefined;
  private ringError = '';
  private closed = false;
  private readonly abort = new AbortController();

  /** Changed containers waiting for the coalescing window to end. */
  private readonly pending = new Set<string>();
  /** Containers ready to be reported, in order. */
  private readonly queue = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private readonly failures = new Map<string, number>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private flushTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private roomWaiters: (() => void)[] = [];

  /** Counters for tests and operators (Swift's updater logs the same). */
  readonly stats = { reported: 0, failures: 0, noChanges: 0, sweeps: 0 };

  constructor(private readonly opts: ContainerUpdaterOptions) {
    this.enabled = opts.interval > 0;
    this.delayMs = Math.max(0, opts.accountUpdateDelay * 1000);
    this.intervalMs = opts.interval * 1000;
    this.ringPath = opts.swiftDir ? join(opts.swiftDir, ringFileName('account')) : undefined;
  }

  /** Starts the periodic sweep. */
  start(): void {
    if (!this.enabled || this.closed) return;
    this.scheduleSweep(Math.min(this.intervalMs, FIRST_SWEEP_MS));
  }

  /** A container's stats or timestamps may have changed: report it once the window ends. */
  changed(file: string): void {
    if (!this.enabled || this.closed) return;
    // Backing off after a failure: the retry timer reports the latest state.
    if (this.retryTimers.has(file)) return;
    this.pending.add(file);
    this.scheduleFlush();
  }

  /** Runs one sweep now (tests, tools); resolves when it has queued every dirty container. */
  sweepNow(): Promise<void> {
    if (!this.enabled || this.closed) return Promise.resolve();
    return this.runSweep();
  }

  /** Resolves when nothing is pending, queued or in flight (tests). */
  async idle(): Promise<void> {
    while (!this.closed && (this.pending.size || this.queue.size || this.running.size || this.flushTimer)) {
      if (this.running.size) await Promise.allSettled([...this.running]);
      else await new Promise((r) => setTimeout(r, Math.max(10, this.delayMs / 2)));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.flushTimer);
    clearTimeout(this.sweepTimer);
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
    this.pending.clear();
    this.queue.clear();
    this.abort.abort();
    for (const w of this.roomWaiters.splice(0)) w();
    await Promise.allSettled([...this.running, this.sweeping]);
  }

  // ---- scheduling ------------------------------------------------------------------------

  private scheduleFlush(): void {
    // A fixed window from the first change (not a debounce that restarts on every change), so
    // a container under constant writes is still reported every accountUpdateDelay.
    if (this.flushTimer || this.closed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, this.delayMs);
    this.flushTimer.unref();
  }

  private flush(): void {
    for (const file of this.pending) {
      // Reported again once the report in flight (maybe of older stats) is done.
      if (this.inFlight.has(file)) continue;
      this.pending.delete(file);
      this.queue.add(file);
    }
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.opts.concurrency && this.queue.size) {
      const file = this.queue.values().next().value as string;
      this.queue.delete(file);
      if (this.inFlight.has(file)) {
        this.pending.add(file);
        continue;
      }
      this.inFlight.add(file);
      const run: Promise<void> = this.process(file)
        .catch((err: unknown): Outcome => {
          this.opts.log(`ERROR container updater: ${file}: ${(err as Error)?.message ?? String(err)}`);
          return 'failed';
        })
        .then((outcome) => this.settle(file, outcome))
        .finally(() => {
          this.inFlight.delete(file);
          this.running.delete(run);
          if (this.pending.has(file)) this.scheduleFlush();
          this.pump();
        });
      this.running.add(run);
    }
    if (this.queue.size < MAX_QUEUED) for (const w of this.roomWaiters.splice(0)) w();
  }

  private settle(file: string, outcome: Outcome): void {
    if (outcome !== 'failed') {
      this.failures.delete(file);
      return;
    }
    this.stats.failures++;
    if (this.closed) return;
    const n = (this.failures.get(file) ?? 0) + 1;
    this.failures.set(file, n);
    // The retry reports whatever the container holds then; later changes need not wait in
    // the coalescing window as well.
    this.pending.delete(file);
    const delay = Math.min(this.intervalMs, Math.max(this.delayMs, MIN_RETRY_MS) * 2 ** (n - 1));
    const timer = setTimeout(() => {
      this.retryTimers.delete(file);
      this.queue.add(file);
      this.pump();
    }, delay);
    timer.unref();
    this.retryTimers.set(file, timer);
  }

  private scheduleSweep(delayMs: number): void {
    if (this.closed) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      void this.runSweep();
    }, delayMs);
    this.sweepTimer.unref();
  }

  private runSweep(): Promise<void> {
    if (this.sweeping) return this.sweeping;
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.sweeping = this.sweep()
      .catch((err: unknown) => this.opts.log(`ERROR container updater sweep: ${(err as Error)?.message ?? String(err)}`))
      .finally(() => {
        this.sweeping = undefined;
        this.scheduleSweep(this.intervalMs);
      });
    return this.sweeping;
  }

  // ---- the sweep (Swift's container updater pass) --------------------------------------

  private async sweep(): Promise<void> {
    this.stats.sweeps++;
    let seen = 0;
    for await (const file of this.containerDbs()) {
      if (this.closed) return;
      // Let requests run between DBs; each check is one open and one small query.
      if (++seen % 8 === 0) await yieldToLoop();
      if (this.closed) return;
      if (this.pending.has(file) || this.queue.has(file) || this.inFlight.has(file)) continue;
      let dirty: boolean | undefined;
      try {
        dirty = this.opts.withBroker(file, (b) => {
          const s = b.reportState();
          return !!s && ContainerBroker.needsReport(s);
        });
      } catch (err) {
        this.opts.log(`ERROR container updater: ${file}: ${(err as Error).message}`);
        continue;
      }
      if (!dirty) continue;
      // A retry waiting out its backoff is due now: the sweep is the slow path anyway.
      const retry = this.retryTimers.get(file);
      if (retry) {
        clearTimeout(retry);
        this.retryTimers.delete(file);
      }
      this.queue.add(file);
      this.pump();
      while (!this.closed && this.queue.size >= MAX_QUEUED) await new Promise<void>((r) => this.roomWaiters.push(r));
    }
  }

  /** `<devices>/<device>/containers/<partition>/<suffix>/<hash>/<hash>.db`, lazily. */
  private async *containerDbs(): AsyncGenerator<string> {
    const dirs = async (path: string): Promise<string[]> => {
      try {
        return (await readdir(path, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
      } catch {
        return []; // unmounted device, or a directory removed under us
      }
    };
    for (const device of await dirs(this.opts.devices)) {
      const root = join(this.opts.devices, device, 'containers');
      for (const part of await dirs(root)) {
        for (const suffix of await dirs(join(root, part))) {
          for (const hash of await dirs(join(root, part, suffix))) {
            const file = join(root, part, suffix, hash, `${hash}.db`);
            if (existsSync(file)) yield file;
          }
        }
      }
    }
  }

  // ---- one report (Swift's process_container) -------------------------------------------

  private async process(file: string): Promise<Outcome> {
    const state = this.opts.withBroker(file, (b) => b.reportState());
    if (!state) return 'gone';
    if (!ContainerBroker.needsReport(state)) {
      this.stats.noChanges++;
      return 'clean';
    }
    const route = this.route(state);
    if (!route) return 'unroutable';
    const statuses = await sendAccountUpdates({
      targets: route.targets,
      partition: route.partition,
      account: state.account,
      container: state.container,
      headers: {
        'X-Put-Timestamp': state.putTimestamp,
        'X-Delete-Timestamp': state.deleteTimestamp,
        'X-Object-Count': String(state.objectCount),
        'X-Bytes-Used': String(state.bytesUsed),
        // As Swift's updater: an account deleted but not yet reaped still takes the report.
        'X-Account-Override-Deleted': 'yes',
        'X-Backend-Storage-Policy-Index': String(state.storagePolicyIndex),
        'User-Agent': `container-updater ${process.pid}`,
      },
      dispatcher: this.opts.dispatcher,
      timeoutMs: this.opts.timeoutMs,
      signal: this.abort.signal,
      log: (m) => this.opts.log(m),
    });
    if (this.closed) return 'failed';
    if (!reportLanded(statuses)) {
      // Every replica 404ing means the account does not exist there; Swift quarantines the
      // container DB. Sluice keeps it and retries (the account may be in transit after a
      // rebalance), backing off to one attempt per interval.
      return 'failed';
    }
    // What was sent, not what the DB holds now: changes made meanwhile stay dirty.
    this.opts.withBroker(file, (b) => b.markReported(state));
    this.stats.reported++;
    return 'reported';
  }

  private route(state: ReportState): { targets: AccountTarget[]; partition: string } | undefined {
    const ring = this.accountRing();
    if (ring) {
      const { part, nodes } = ring.getNodes(state.account);
      if (nodes.length) {
        return {
          partition: String(part),
          // Swift's updater talks to the replication address (the same server in sluice).
          targets: nodes.map((n) => {
            const ip = n.replication_ip || n.ip;
            const port = n.replication_port || n.port;
            return { host: `${ip.includes(':') ? `[${ip}]` : ip}:${port}`, device: n.device };
          }),
        };
      }
    }
    if (!state.accountPartition) return undefined;
    const hosts = state.accountHosts.split(',');
    const devices = state.accountDevices.split(',');
    if (hosts.length !== devices.length) return undefined;
    return { partition: state.accountPartition, targets: hosts.map((host, i) => ({ host, device: devices[i]! })) };
  }

  /** The account ring once its file exists; Ring itself reloads it when the file changes. */
  private accountRing(): Ring | undefined {
    if (this.ring || !this.ringPath) return this.ring;
    if (!existsSync(this.ringPath)) return undefined;
    try {
      this.ring = Ring.load(this.ringPath, this.opts.hash);
      this.ringError = '';
    } catch (err) {
      const msg = (err as Error).message;
      if (msg !== this.ringError) this.opts.log(`ERROR container updater: cannot load ${this.ringPath}: ${msg}`);
      this.ringError = msg;
    }
    return this.ring;
  }
}
