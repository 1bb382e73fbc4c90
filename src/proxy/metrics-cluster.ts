/**
 * Prometheus figures across proxy workers: a scrape reaches one worker (they share the port), so
 * that worker asks the primary, which collects every connected worker's figures over IPC and
 * hands them back to be summed (the way the shared cache goes through the primary,
 * src/proxy/cluster-cache.ts). The primary never parses them: it only relays.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';

/** One worker's figures: what prom-client's Registry.getMetricsAsJSON returns. */
export type WorkerFigures = object[];

type Msg =
  | { sluiceMetrics: 'scrape'; id: string }
  | { sluiceMetrics: 'scraped'; id: string; figures: WorkerFigures[] }
  | { sluiceMetrics: 'collect'; id: string }
  | { sluiceMetrics: 'collected'; id: string; figures: WorkerFigures };

function isMsg(m: unknown): m is Msg {
  return typeof m === 'object' && m !== null && 'sluiceMetrics' in m && typeof (m as { id?: unknown }).id === 'string';
}

/** How long the primary waits for the workers' figures before it answers with those it has. */
const COLLECT_TIMEOUT_MS = 4_000;

let provider: (() => Promise<WorkerFigures>) | undefined;
let answering = false;

/** In a worker: hands this worker's figures to the primary when it collects (one provider per process). */
export function shareWorkerFigures(figures: () => Promise<WorkerFigures>): () => void {
  provider = figures;
  if (!answering && cluster.isWorker) {
    answering = true;
    process.on('message', (m: unknown) => {
      if (!isMsg(m) || m.sluiceMetrics !== 'collect') return;
      const reply = (f: WorkerFigures) => process.send?.({ sluiceMetrics: 'collected', id: m.id, figures: f } satisfies Msg);
      (provider ?? (async () => []))().then(reply, () => reply([]));
    });
  }
  return () => {
    if (provider === figures) provider = undefined;
  };
}

/** True in a proxy worker whose primary can collect (it runs serveClusterMetrics). */
export function inClusterWorker(): boolean {
  return cluster.isWorker && typeof process.send === 'function';
}

/** In a worker: every worker's figures, through the primary; rejects after `timeoutMs`. */
export function figuresFromPrimary(timeoutMs = COLLECT_TIMEOUT_MS + 3_000): Promise<WorkerFigures[]> {
  const id = randomUUID();
  return new Promise((resolve, reject) => {
    const listener = (m: unknown) => {
      if (!isMsg(m) || m.sluiceMetrics !== 'scraped' || m.id !== id) return;
      done();
      resolve(m.figures);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error('the proxy primary did not answer with the workers\' metrics'));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      process.off('message', listener);
    };
    process.on('message', listener);
    process.send!({ sluiceMetrics: 'scrape', id } satisfies Msg);
  });
}

/** In the primary: answers workers' scrapes with the figures of every connected worker. */
export function serveClusterMetrics(): void {
  cluster.on('message', (asker: Worker, m: unknown) => {
    if (!isMsg(m) || m.sluiceMetrics !== 'scrape') return;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
    const figures: WorkerFigures[] = [];
    const id = randomUUID();
    let pending = workers.length;
    const finish = () => {
      clearTimeout(timer);
      cluster.off('message', collected);
      if (asker.isConnected()) asker.send({ sluiceMetrics: 'scraped', id: m.id, figures } satisfies Msg);
    };
    const collected = (_w: Worker, r: unknown) => {
      if (!isMsg(r) || r.sluiceMetrics !== 'collected' || r.id !== id) return;
      figures.push(r.figures);
      if (--pending === 0) finish();
    };
    const timer = setTimeout(finish, COLLECT_TIMEOUT_MS);
    cluster.on('message', collected);
    if (pending === 0) return finish();
    for (const w of workers) w.send({ sluiceMetrics: 'collect', id } satisfies Msg);
  });
}
