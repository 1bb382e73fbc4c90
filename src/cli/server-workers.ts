/**
 * A storage server in `workers` node:cluster processes sharing its port, as Swift's account,
 * container and object servers take `workers` (one event loop is one core: a node serving
 * PUTs spends most of a core in the object and container servers' system calls alone).
 *
 * Each worker runs the same command line (node:cluster forks it), so it validates the same
 * options and starts the same server; the primary only forks, waits and replaces. Start-up
 * failures end everything, once: a worker that cannot listen (a busy port) tells the primary,
 * which stops the others and fails with that cause. A worker that dies after it listened is
 * replaced. SIGTERM or SIGINT to the primary stops every worker, each closing as a single
 * server does, and the primary exits once they have.
 *
 * Background sweeps (the object and container updaters) run in the first worker only, as Swift
 * runs one updater daemon per node beside its servers' workers; every worker still sends its
 * own requests' updates.
 */
import cluster, { type Worker } from 'node:cluster';
import type { CliIo } from './main';

const WORKER_ENV = 'SLUICE_SERVER_WORKER';
/** How long a stopping worker may take before the primary SIGKILLs it. */
const STOP_KILL_MS = 30_000;

interface Listening {
  sluiceServerWorker: 'listening';
  url: string;
}

interface Failed {
  sluiceServerWorker: 'failed';
  message: string;
}

type WorkerReport = Listening | Failed;

function isReport(m: unknown): m is WorkerReport {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as { sluiceServerWorker?: unknown; url?: unknown; message?: unknown };
  return r.sluiceServerWorker === 'listening' ? typeof r.url === 'string' : r.sluiceServerWorker === 'failed' && typeof r.message === 'string';
}

/** This process's index among a server's workers, when it is one (0 runs the sweeps). */
export function serverWorkerIndex(): number | undefined {
  const raw = process.env[WORKER_ENV];
  return cluster.isWorker && raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/** A worker tells the primary it listens (or could not start), then goes on serving. */
export function reportToPrimary(report: { url: string } | { error: unknown }): void {
  const m: WorkerReport = 'url' in report ? { sluiceServerWorker: 'listening', url: report.url } : { sluiceServerWorker: 'failed', message: (report.error as Error)?.message ?? String(report.error) };
  process.send?.(m);
}

/** A worker whose server has closed lets go of its IPC channel, so it can exit. */
export function leavePrimary(): void {
  if (cluster.isWorker && cluster.worker?.isConnected()) cluster.worker.disconnect();
}

function exited(w: Worker): Promise<void> {
  return w.isDead() ? Promise.resolve() : new Promise((resolve) => w.once('exit', () => resolve()));
}

/** Stops workers as SIGTERM stops a single server; SIGKILL past STOP_KILL_MS. */
async function stopAll(workers: Iterable<Worker>): Promise<void> {
  await Promise.all(
    [...workers].map(async (w) => {
      if (w.isDead()) return;
      const kill = setTimeout(() => w.process.kill('SIGKILL'), STOP_KILL_MS);
      kill.unref();
      w.process.kill('SIGTERM');
      await exited(w);
      clearTimeout(kill);
    }),
  );
}

/** Forks one worker and settles once it listens (its URL) or failed before it did (its cause). */
function forkWorker(index: number, name: string): { worker: Worker; ready: Promise<string> } {
  const worker = cluster.fork({ [WORKER_ENV]: String(index) });
  const ready = new Promise<string>((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (!isReport(m)) return;
      worker.off('exit', onExit);
      worker.off('message', onMessage);
      if (m.sluiceServerWorker === 'listening') resolve(m.url);
      else reject(new Error(m.message));
    };
    const onExit = (code: number | null, signal: string | null) => {
      worker.off('message', onMessage);
      reject(new Error(`${name}: worker ${index} exited (${signal ?? `code ${code}`}) before it listened`));
    };
    worker.on('message', onMessage);
    worker.once('exit', onExit);
  });
  return { worker, ready };
}

/**
 * The primary of `count` workers of `name` (e.g. `object-server`): resolves once they have all
 * stopped after SIGTERM or SIGINT (0), or with 1 when a replacement worker cannot start (the
 * rest are stopped by then). Throws the first worker's start-up failure.
 */
export async function runServerWorkers(name: string, count: number, io: CliIo): Promise<number> {
  const workers = new Map<number, Worker>();
  const starting = Array.from({ length: count }, (_, i) => {
    const { worker, ready } = forkWorker(i, name);
    workers.set(i, worker);
    return ready;
  });
  let url: string;
  try {
    [url] = (await Promise.all(starting)) as [string, ...string[]];
  } catch (err) {
    await stopAll(workers.values());
    throw err;
  }
  io.out(`${name} listening on ${url} (${count} workers)`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (code: number) => {
      if (stopping) return;
      stopping = true;
      await stopAll(workers.values());
      resolve(code);
    };
    const replace = (index: number, worker: Worker) => {
      worker.once('exit', (code, signal) => {
        if (stopping || workers.get(index) !== worker) return;
        io.err(`${name}: worker ${index} (pid ${worker.process.pid}) exited (${signal ?? `code ${code}`}); starting another`);
        const next = forkWorker(index, name);
        workers.set(index, next.worker);
        replace(index, next.worker);
        next.ready.catch((err: unknown) => {
          io.err(`${name}: the replacement of worker ${index} cannot start: ${(err as Error).message}; stopping`);
          void stop(1);
        });
      });
    };
    for (const [index, worker] of workers) replace(index, worker);
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        io.err(`${name}: ${signal} again, exiting now`);
        for (const w of workers.values()) w.process.kill('SIGKILL');
        process.exit(1);
      }
      io.err(`${name}: ${signal}, stopping ${count} workers`);
      void stop(0);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
