/**
 * The proxy in `workers` node:cluster processes sharing one port (Swift's `workers`), with the
 * shared cache held by the primary, or in this process for `workers = 0`.
 *
 * Start-up failures end everything, once: as Swift's run_wsgi loads the app in the parent before
 * it forks, the primary builds the pipeline (configuration, swift.conf, rings) first, so a bad
 * configuration never reaches a worker. A worker that still fails before it listens (its port is
 * taken, a file changed since) tells the primary over IPC and exits; the primary stops the other
 * workers and reports that one cause. A worker that dies after it listened is replaced.
 *
 * Stopping drains: a worker told to stop (SIGTERM, SIGINT) stops taking connections and lets
 * the requests it is serving finish, for up to graceful_shutdown_timeout. A reload (SIGHUP to the
 * primary, as Swift's workers are replaced on SIGHUP) starts a new set of workers on the same
 * shared socket and only then drains the old set, so the port never stops taking connections.
 */
import cluster, { type Worker } from 'node:cluster';
import pino from 'pino';
import { ConfigError, floatOption, loadProxyConfig, parseProxyConfig, type ProxyConfig } from '../proxy/config';
import { startProxyServer, type ProxyServerOptions } from '../proxy/server';
import { ClusterCache, serveClusterCache } from '../proxy/cluster-cache';
import { serveClusterMetrics } from '../proxy/metrics-cluster';
import { loadSwiftConf } from '../common/swift-conf';
import { namingServer } from './startup';
import type { CliIo } from './main';

export interface WorkerPlan {
  configPath?: string;
  configText?: string;
  swiftDir?: string;
  host: string;
  port: number;
}

export interface RunningProxies {
  readonly url: string;
  /** How long a stop lets requests in flight run (graceful_shutdown_timeout), in ms. */
  readonly graceMs: number;
  /**
   * Settles only if a worker started after start-up (a replacement) fails before it listens; by
   * then every worker has been stopped. The message is the worker's cause.
   */
  readonly failed: Promise<Error>;
  /**
   * Reads the configuration again and replaces the workers: the new ones listen before the old
   * ones stop taking connections and drain. A configuration (or a new worker) that cannot start
   * leaves the old workers serving. Each outcome is one line on stderr.
   */
  reload(): Promise<void>;
  /** Stops taking connections, lets requests in flight finish for up to graceMs, then stops. */
  stop(): Promise<void>;
}

/**
 * `graceful_shutdown_timeout` ([DEFAULT], seconds, default 60): how long a stopping or replaced
 * proxy lets requests in flight finish before it cuts their connections. Swift 2.30 has no such
 * bound (a worker whose listen socket was shut on SIGHUP waits for every request; SIGTERM ends
 * them at once); a bound keeps a stop from hanging on a client that never finishes reading.
 */
export const SHUTDOWN_TIMEOUT_OPTION = 'graceful_shutdown_timeout';
const DEFAULT_SHUTDOWN_TIMEOUT_S = 60;
/** How long past a worker's own bound the primary waits before it SIGKILLs it. */
const KILL_MARGIN_MS = 5000;

const WORKER_ENV = 'SLUICE_PROXY_WORKER';

/** A worker's report that it could not start. */
interface StartupFailure {
  sluiceProxyWorker: 'failed';
  message: string;
}

function isStartupFailure(m: unknown): m is StartupFailure {
  return typeof m === 'object' && m !== null && (m as Partial<StartupFailure>).sluiceProxyWorker === 'failed' && typeof (m as Partial<StartupFailure>).message === 'string';
}

/** The plan this process was forked with, when it is a proxy worker. */
export function workerPlan(): WorkerPlan | undefined {
  const raw = process.env[WORKER_ENV];
  return cluster.isWorker && raw ? (JSON.parse(raw) as WorkerPlan) : undefined;
}

function configOf(plan: WorkerPlan): ProxyConfig {
  return plan.configPath ? loadProxyConfig(plan.configPath) : parseProxyConfig(plan.configText ?? '', 'development proxy-server.conf');
}

function shutdownGraceMs(config: ProxyConfig): number {
  try {
    return floatOption(config.app, SHUTDOWN_TIMEOUT_OPTION, DEFAULT_SHUTDOWN_TIMEOUT_S) * 1000;
  } catch (err) {
    throw new ConfigError(`${config.source}: ${(err as Error).message}`);
  }
}

/** What a proxy starts with from a plan, and its drain bound; throws the configuration's errors. */
function serverSetup(plan: WorkerPlan): { options: ProxyServerOptions; graceMs: number } {
  const config = configOf(plan);
  return {
    options: { config, host: plan.host, port: plan.port, swiftDir: plan.swiftDir, swiftConf: plan.swiftDir ? loadSwiftConf(plan.swiftDir) : undefined },
    graceMs: shutdownGraceMs(config),
  };
}

function errorText(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

/**
 * Starts the proxy once, here, as a worker would (configuration, swift.conf, rings, every
 * filter and its options, the bind address), on a free port, and stops it: whatever a worker
 * would fail on is thrown here, once. The configured port is the workers' to take; resolves to
 * the free port it used and the configuration's drain bound.
 */
async function checkPlan(plan: WorkerPlan): Promise<{ port: number; graceMs: number }> {
  let setup;
  try {
    setup = serverSetup(plan);
  } catch (err) {
    throw namingServer('proxy-server', err);
  }
  // Silent: the workers log the filters' start-up warnings themselves.
  const proxy = await startProxyServer({ ...setup.options, port: 0, logger: pino({ level: 'silent' }) }).catch((err: unknown) => {
    throw namingServer('proxy-server', err);
  });
  await proxy.close();
  return { port: proxy.port, graceMs: setup.graceMs };
}

/** Runs in a worker process: one proxy server on the shared port. */
export async function runWorker(plan: WorkerPlan): Promise<void> {
  let proxy;
  let graceMs;
  try {
    const setup = serverSetup(plan);
    graceMs = setup.graceMs;
    // The first worker reports the file's unknown and shadowed options for all of them.
    proxy = await startProxyServer({ ...setup.options, cache: new ClusterCache(), configWarnings: cluster.worker?.id === 1 });
  } catch (err) {
    // The primary prints the cause (once, whichever worker failed first) and stops the others.
    const cause = namingServer('proxy-server', err);
    const report: StartupFailure = { sluiceProxyWorker: 'failed', message: errorText(cause) };
    // Exit once the report is out (the callback also comes, with an error, if the primary is gone).
    process.send!(report, undefined, undefined, () => process.exit(1));
    return;
  }
  const running = proxy;
  const drainMs = graceMs;
  let stopping = false;
  // Idempotent: a signal sent to the whole process group reaches a worker twice (once from the
  // sender, once from the primary passing it on), and the second must not cut the drain short.
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void running.close(drainMs).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The primary reloads on SIGHUP and retires this worker itself; a hangup sent to the whole
  // group (a closed terminal) must not end this one mid-request.
  process.on('SIGHUP', () => undefined);
  process.once('disconnect', stop);
}

/** Stops workers: SIGTERM (they drain their server), SIGKILL for any still there after `killAfterMs`. */
async function stopWorkers(workers: Iterable<Worker | undefined>, killAfterMs: number): Promise<void> {
  await Promise.all(
    [...workers].map(
      (w) =>
        new Promise<void>((done) => {
          if (!w || w.isDead()) return done();
          const kill = setTimeout(() => w.process.kill('SIGKILL'), killAfterMs);
          w.once('exit', () => {
            clearTimeout(kill);
            done();
          });
          // Not Worker.kill(): it waits for the worker to disconnect first, which one still
          // loading its modules does not do promptly.
          w.process.kill('SIGTERM');
        }),
    ),
  );
}

function allWorkers(): (Worker | undefined)[] {
  return Object.values(cluster.workers ?? {});
}

async function inThisProcess(plan: WorkerPlan, io: CliIo): Promise<RunningProxies> {
  let graceMs;
  let proxy;
  try {
    const setup = serverSetup(plan);
    graceMs = setup.graceMs;
    proxy = await startProxyServer(setup.options);
  } catch (err) {
    throw namingServer('proxy-server', err);
  }
  const running = proxy;
  const drainMs = graceMs;
  return {
    url: running.url,
    graceMs: drainMs,
    failed: new Promise<Error>(() => undefined),
    // One process holds the only listening socket: a new pipeline cannot take over without a
    // moment with no listener, so a reload here would refuse connections. Say so instead.
    reload: async () => io.err('sluice: reload ignored: the proxy runs in this process (--workers 0); restart it to read the configuration again'),
    stop: () => running.close(drainMs),
  };
}

/** Workers with a shared cache, or the proxy in this process for `workers = 0`. */
export async function runProxies(plan: WorkerPlan, workers: number, io: CliIo): Promise<RunningProxies> {
  if (workers === 0) return inThisProcess(plan, io);
  const checked = await checkPlan(plan);
  // node:cluster shares a listening socket among the workers that asked for the same port: with
  // port 0 a replacement would ask for the actual one and find it taken (by that shared socket),
  // and once no worker is left 0 means a new port. The workers get one real port instead.
  if (plan.port === 0) plan.port = checked.port;
  let graceMs = checked.graceMs;
  /** The longest bound any worker still running started with. */
  let longestGraceMs = graceMs;
  serveClusterCache();
  // A Prometheus scrape reaching one worker answers for all of them, through this process.
  serveClusterMetrics();
  let url = '';
  const listened = new Set<Worker>();
  /** The workers serving the current configuration; a replacement for one that died joins them. */
  let current = new Set<Worker>();
  /** A reload's new workers, until every one listens (or one fails). */
  let incoming: { workers: Set<Worker>; settle(cause?: string): void } | undefined;
  /** Workers a reload replaced (or a failed reload started), draining: their exit is expected. */
  const retiring = new Set<Worker>();
  let up = false;
  let stopping = false;
  let reportFailure!: (err: Error) => void;
  const failed = new Promise<Error>((resolveFailed) => (reportFailure = resolveFailed));
  const forkInto = (set: Set<Worker>) => set.add(cluster.fork({ [WORKER_ENV]: JSON.stringify(plan) }));
  const pids = (ws: Iterable<Worker>) => [...ws].map((w) => w.process.pid).join(', ');

  const ready = new Promise<void>((resolveReady, rejectReady) => {
    const fail = (cause: string) => {
      if (stopping) return;
      stopping = true;
      incoming?.settle(cause);
      const err = new Error(cause);
      void stopWorkers(allWorkers(), 1000).then(() => (up ? reportFailure(err) : rejectReady(err)));
    };
    cluster.on('message', (worker, m: unknown) => {
      if (!isStartupFailure(m) || listened.has(worker)) return;
      if (incoming?.workers.has(worker)) incoming.settle(m.message);
      else if (current.has(worker)) fail(m.message);
    });
    cluster.on('listening', (worker, address) => {
      listened.add(worker);
      url = `http://${plan.host.includes(':') ? `[${plan.host}]` : plan.host}:${address.port}`;
      if (incoming?.workers.has(worker)) {
        if ([...incoming.workers].every((w) => listened.has(w))) incoming.settle();
        return;
      }
      // A replacement (Swift logs each child it starts).
      if (up) io.err(`proxy worker ${worker.process.pid} started`);
      if (!up && listened.size === workers) {
        up = true;
        resolveReady();
      }
    });
    cluster.on('exit', (worker, code, signal) => {
      const served = listened.delete(worker);
      if (retiring.delete(worker) || stopping) return;
      // Its report, if it sent one, is read before the channel closes: wait for that so the
      // cause printed is the worker's own, not this fallback.
      const whenReported = (then: () => void) => (worker.isConnected() ? worker.once('disconnect', then) : then());
      const how = signal ?? `exit code ${code}`;
      if (incoming?.workers.has(worker)) {
        const pending = incoming;
        whenReported(() => pending.settle(`proxy worker ${worker.process.pid} ${served ? 'died' : 'exited during start-up'} (${how})`));
        return;
      }
      if (!current.delete(worker)) return;
      if (!served) {
        whenReported(() => fail(`proxy worker ${worker.process.pid} exited during start-up (${how})`));
        return;
      }
      io.err(`proxy worker ${worker.process.pid} died (${signal ?? code}); starting another`);
      forkInto(current);
    });
  });
  for (let i = 0; i < workers; i++) forkInto(current);
  await ready;

  const refuse = (cause: string) => io.err(`sluice: reload failed, still serving the previous configuration: ${cause}`);
  let reloading: Promise<void> | undefined;
  const replaceWorkers = async () => {
    let next;
    try {
      // As at start-up: whatever the new workers would fail on fails here, once.
      next = await checkPlan(plan);
    } catch (err) {
      return refuse(errorText(err));
    }
    if (stopping) return;
    const fresh = new Set<Worker>();
    const cause = await new Promise<string | undefined>((settled) => {
      let open = true;
      incoming = {
        workers: fresh,
        settle(c) {
          if (!open) return;
          open = false;
          incoming = undefined;
          settled(c);
        },
      };
      for (let i = 0; i < workers; i++) forkInto(fresh);
    });
    if (stopping) return;
    if (cause !== undefined) {
      for (const w of fresh) retiring.add(w);
      await stopWorkers(fresh, 1000);
      return refuse(cause);
    }
    const old = current;
    const oldGraceMs = graceMs;
    current = fresh;
    graceMs = next.graceMs;
    longestGraceMs = Math.max(longestGraceMs, graceMs);
    for (const w of old) retiring.add(w);
    io.err(`proxy reloaded: workers ${pids(fresh)} serve the new configuration; ${pids(old)} finish their requests and exit`);
    // The old workers drain with the bound they started with.
    void stopWorkers(old, oldGraceMs + KILL_MARGIN_MS);
  };

  return {
    get url() {
      return url;
    },
    get graceMs() {
      return graceMs;
    },
    failed,
    reload() {
      if (stopping) return Promise.resolve();
      if (reloading) {
        io.err('sluice: reload already in progress; this one is ignored');
        return reloading;
      }
      reloading = replaceWorkers().finally(() => (reloading = undefined));
      return reloading;
    },
    async stop() {
      stopping = true;
      incoming?.settle('stopping');
      // Workers still draining after a reload may have a longer bound than the current one.
      await stopWorkers(allWorkers(), longestGraceMs + KILL_MARGIN_MS);
    },
  };
}
