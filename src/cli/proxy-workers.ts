/**
 * The proxy in `workers` node:cluster processes sharing one port (Swift's `workers`), with the
 * shared cache held by the primary, or in this process for `workers = 0`.
 *
 * Start-up failures end everything, once: as Swift's run_wsgi loads the app in the parent before
 * it forks, the primary builds the pipeline (configuration, swift.conf, rings) first, so a bad
 * configuration never reaches a worker. A worker that still fails before it listens (its port is
 * taken, a file changed since) tells the primary over IPC and exits; the primary stops the other
 * workers and reports that one cause. A worker that dies after it listened is replaced.
 */
import cluster, { type Worker } from 'node:cluster';
import pino from 'pino';
import { loadProxyConfig, parseProxyConfig, type ProxyConfig } from '../proxy/config';
import { startProxyServer, type ProxyServerOptions } from '../proxy/server';
import { ClusterCache, serveClusterCache } from '../proxy/cluster-cache';
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
  /**
   * Settles only if a worker started after start-up (a replacement) fails before it listens; by
   * then every worker has been stopped. The message is the worker's cause.
   */
  readonly failed: Promise<Error>;
  stop(): Promise<void>;
}

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

function serverOptions(plan: WorkerPlan): ProxyServerOptions {
  return {
    config: configOf(plan),
    host: plan.host,
    port: plan.port,
    swiftDir: plan.swiftDir,
    swiftConf: plan.swiftDir ? loadSwiftConf(plan.swiftDir) : undefined,
  };
}

/**
 * Starts the proxy once, here, as a worker would (configuration, swift.conf, rings, every
 * filter and its options, the bind address), on a free port, and stops it: whatever a worker
 * would fail on is thrown here, once. The configured port is the workers' to take; resolves to
 * the free port it used.
 */
async function checkPlan(plan: WorkerPlan): Promise<number> {
  // Silent: the workers log the filters' start-up warnings themselves.
  const proxy = await startProxyServer({ ...serverOptions(plan), port: 0, logger: pino({ level: 'silent' }) }).catch((err: unknown) => {
    throw namingServer('proxy-server', err);
  });
  await proxy.close();
  return proxy.port;
}

/** Runs in a worker process: one proxy server on the shared port. */
export async function runWorker(plan: WorkerPlan): Promise<void> {
  let proxy;
  try {
    // The first worker reports the file's unknown and shadowed options for all of them.
    proxy = await startProxyServer({ ...serverOptions(plan), cache: new ClusterCache(), configWarnings: cluster.worker?.id === 1 });
  } catch (err) {
    // The primary prints the cause (once, whichever worker failed first) and stops the others.
    const cause = namingServer('proxy-server', err);
    const report: StartupFailure = { sluiceProxyWorker: 'failed', message: (cause as Error)?.message ?? String(cause) };
    // Exit once the report is out (the callback also comes, with an error, if the primary is gone).
    process.send!(report, undefined, undefined, () => process.exit(1));
    return;
  }
  const running = proxy;
  const stop = () => void running.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
}

/** Stops workers: SIGTERM (they close their server), SIGKILL for any still there after `graceMs`. */
async function stopWorkers(graceMs: number): Promise<void> {
  await Promise.all(
    Object.values(cluster.workers ?? {}).map(
      (w) =>
        new Promise<void>((done) => {
          if (!w || w.isDead()) return done();
          const kill = setTimeout(() => w.process.kill('SIGKILL'), graceMs);
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

function inThisProcess(plan: WorkerPlan): Promise<RunningProxies> {
  return startProxyServer(serverOptions(plan)).then(
    (proxy) => ({ url: proxy.url, failed: new Promise<Error>(() => undefined), stop: () => proxy.close() }),
    (err: unknown) => {
      throw namingServer('proxy-server', err);
    },
  );
}

/** Workers with a shared cache, or the proxy in this process for `workers = 0`. */
export async function runProxies(plan: WorkerPlan, workers: number, io: CliIo): Promise<RunningProxies> {
  if (workers === 0) return inThisProcess(plan);
  const freePort = await checkPlan(plan);
  // node:cluster shares a listening socket among the workers that asked for the same port: with
  // port 0 a replacement would ask for the actual one and find it taken (by that shared socket),
  // and once no worker is left 0 means a new port. The workers get one real port instead.
  if (plan.port === 0) plan.port = freePort;
  serveClusterCache();
  let url = '';
  const listened = new Set<Worker>();
  let up = false;
  let stopping = false;
  let reportFailure!: (err: Error) => void;
  const failed = new Promise<Error>((resolveFailed) => (reportFailure = resolveFailed));
  const forkOne = () => cluster.fork({ [WORKER_ENV]: JSON.stringify(plan) });

  const ready = new Promise<void>((resolveReady, rejectReady) => {
    const fail = (cause: string) => {
      if (stopping) return;
      stopping = true;
      const err = new Error(cause);
      void stopWorkers(1000).then(() => (up ? reportFailure(err) : rejectReady(err)));
    };
    cluster.on('message', (worker, m: unknown) => {
      if (isStartupFailure(m) && !listened.has(worker)) fail(m.message);
    });
    cluster.on('listening', (worker, address) => {
      listened.add(worker);
      url = `http://${plan.host.includes(':') ? `[${plan.host}]` : plan.host}:${address.port}`;
      // A replacement (Swift logs each child it starts).
      if (up) io.err(`proxy worker ${worker.process.pid} started`);
      if (!up && listened.size === workers) {
        up = true;
        resolveReady();
      }
    });
    cluster.on('exit', (worker, code, signal) => {
      const served = listened.delete(worker);
      if (stopping) return;
      if (!served) {
        // Its report, if it sent one, is read before the channel closes: wait for that so the
        // cause printed is the worker's own, not this fallback.
        const fallback = () => fail(`proxy worker ${worker.process.pid} exited during start-up (${signal ?? `exit code ${code}`})`);
        if (worker.isConnected()) worker.once('disconnect', fallback);
        else fallback();
        return;
      }
      io.err(`proxy worker ${worker.process.pid} died (${signal ?? code}); starting another`);
      forkOne();
    });
  });
  for (let i = 0; i < workers; i++) forkOne();
  await ready;
  return {
    get url() {
      return url;
    },
    failed,
    async stop() {
      stopping = true;
      await stopWorkers(10_000);
    },
  };
}
