/**
 * `npm run soak -- --requests N --seed S [--url URL] [--concurrency C] [--sample-ms MS]`: a long
 * mixed load over the whole pipeline (scripts/lib/soak-workload.ts: object PUT/GET/HEAD/DELETE of
 * 0 B to 1 MiB, ranges, listings, POSTs, account HEADs, TempAuth logins, some 4xx), each answer
 * checked against what the connection stored. Without --url it starts `sluice start --workers 1`
 * (the development pipeline, scripts/lib/soak-cluster.ts) in a child process and samples the
 * proxy worker's and the storage servers' RSS and open file descriptors every --sample-ms.
 *
 * Exits non-zero on any unexpected answer (5xx included), a request that failed at the socket,
 * or growth beyond warm-up (scripts/lib/soak-growth.ts: last-quarter median against
 * second-quarter median, RSS beyond 20 % or 16 MiB, fds beyond 25 % or 8).
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from 'undici';
import { FD_LIMIT, growth, RSS_LIMIT, type Growth } from './lib/soak-growth';
import { sampleProcesses, soakProxyConf, startChildCluster, type ChildCluster, type ProcessSample } from './lib/soak-cluster';
import { bodies, CONTAINERS, Lane, type Credentials } from './lib/soak-workload';

export interface SoakOptions {
  requests: number;
  seed: number;
  /** The proxy, e.g. http://127.0.0.1:8080 (its processes are sampled only with `pid`). */
  url: string;
  /** The `sluice start` process whose RSS and fds (and its workers') are sampled. */
  pid?: number;
  concurrency: number;
  sampleMs: number;
  user?: string;
  key?: string;
  progress?: (line: string) => void;
}

export interface Sample {
  /** ms since the start. */
  at: number;
  done: number;
  processes: ProcessSample[];
}

export interface Unexpected {
  kind: string;
  method: string;
  path: string;
  problem: string;
}

export interface SeriesVerdict {
  role: ProcessSample['role'];
  metric: 'rssKiB' | 'fds';
  first: number;
  max: number;
  growth?: Growth;
}

export interface SoakResult {
  seed: number;
  sent: number;
  durationMs: number;
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  unexpected: number;
  examples: Unexpected[];
  latency: { p50: number; p99: number; max: number };
  samples: Sample[];
  verdicts: SeriesVerdict[];
}

export function soakFailed(r: SoakResult): boolean {
  return r.unexpected > 0 || r.sent === 0 || r.verdicts.some((v) => v.growth?.grew);
}

async function login(url: string, user: string, key: string): Promise<Credentials> {
  const client = new Client(url);
  try {
    const res = await client.request({ method: 'GET', path: '/auth/v1.0', headers: { 'X-Auth-User': user, 'X-Auth-Key': key } });
    await res.body.dump();
    const token = res.headers['x-auth-token'];
    const storage = res.headers['x-storage-url'];
    if (res.statusCode !== 200 || typeof token !== 'string' || typeof storage !== 'string') throw new Error(`login as ${user}: ${res.statusCode}`);
    return { token, account: new URL(storage).pathname, user, key };
  } finally {
    await client.close();
  }
}

/** Per role and metric: the series over the samples (a worker replaced midway shows as a jump). */
export function verdicts(samples: readonly Sample[]): SeriesVerdict[] {
  const out: SeriesVerdict[] = [];
  for (const role of ['worker', 'primary'] as const) {
    for (const metric of ['rssKiB', 'fds'] as const) {
      const series = samples.map((s) => s.processes.filter((p) => p.role === role).reduce((sum, p) => sum + p[metric], 0));
      if (!samples.some((s) => s.processes.some((p) => p.role === role))) continue;
      out.push({ role, metric, first: series[0]!, max: Math.max(...series), growth: growth(series, metric === 'rssKiB' ? RSS_LIMIT : FD_LIMIT) });
    }
  }
  return out;
}

const pct = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const creds = await login(opts.url, opts.user ?? 'test:tester', opts.key ?? 'testing');
  const setup = new Client(opts.url);
  for (const c of CONTAINERS) {
    const res = await setup.request({ method: 'PUT', path: `${creds.account}/${c}`, headers: { 'X-Auth-Token': creds.token } });
    await res.body.dump();
    if (res.statusCode !== 201 && res.statusCode !== 202) throw new Error(`container ${c}: ${res.statusCode}`);
  }
  await setup.close();

  const sizes = bodies(opts.seed);
  const byStatus: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  const examples: Unexpected[] = [];
  const latencies: number[] = [];
  let unexpected = 0;
  let done = 0;
  const samples: Sample[] = [];
  const t0 = performance.now();
  const sample = () => {
    if (opts.pid !== undefined) samples.push({ at: performance.now() - t0, done, processes: sampleProcesses(opts.pid) });
  };
  sample();
  const sampler = setInterval(sample, opts.sampleMs);
  let lastProgress = t0;

  const lane = async (index: number, quota: number) => {
    const l = new Lane(index, opts.seed, creds, sizes);
    const client = new Client(opts.url, { keepAliveTimeout: 30_000 });
    try {
      for (let i = 0; i < quota; i++) {
        const r = l.next();
        byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
        const t = performance.now();
        let problem: string | undefined;
        try {
          const res = await client.request({ method: r.method, path: r.path, headers: r.headers, body: r.body });
          const body = Buffer.from(await res.body.arrayBuffer());
          byStatus[res.statusCode] = (byStatus[res.statusCode] ?? 0) + 1;
          problem = r.check(res.statusCode, res.headers, body);
        } catch (err) {
          byStatus.error = (byStatus.error ?? 0) + 1;
          problem = `request failed: ${(err as Error).message}`;
        }
        latencies.push(performance.now() - t);
        done++;
        if (problem) {
          unexpected++;
          if (examples.length < 20) examples.push({ kind: r.kind, method: r.method, path: r.path.slice(0, 200), problem });
        }
        if (opts.progress && performance.now() - lastProgress > 10_000) {
          lastProgress = performance.now();
          opts.progress(`${done} requests, ${((done * 1000) / (lastProgress - t0)).toFixed(0)}/s, ${unexpected} unexpected`);
        }
      }
    } finally {
      await client.close();
    }
  };
  const per = Math.floor(opts.requests / opts.concurrency);
  await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => lane(i, per + (i < opts.requests % opts.concurrency ? 1 : 0))));
  clearInterval(sampler);
  sample();
  const sorted = latencies.sort((a, b) => a - b);
  return {
    seed: opts.seed,
    sent: done,
    durationMs: performance.now() - t0,
    byStatus,
    byKind,
    unexpected,
    examples,
    latency: { p50: pct(sorted, 50), p99: pct(sorted, 99), max: sorted[sorted.length - 1] ?? 0 },
    samples,
    verdicts: verdicts(samples),
  };
}

const mib = (kib: number) => (kib / 1024).toFixed(1);

export function sampleTable(samples: readonly Sample[]): string {
  const lines = ['   t (s)  requests  proxy RSS MiB  proxy fds  storage RSS MiB  storage fds'];
  for (const s of samples) {
    const sum = (role: string, m: 'rssKiB' | 'fds') => s.processes.filter((p) => p.role === role).reduce((a, p) => a + p[m], 0);
    lines.push(
      `${(s.at / 1000).toFixed(1).padStart(8)}  ${String(s.done).padStart(8)}  ${mib(sum('worker', 'rssKiB')).padStart(13)}  ${String(sum('worker', 'fds')).padStart(9)}  ${mib(sum('primary', 'rssKiB')).padStart(15)}  ${String(sum('primary', 'fds')).padStart(11)}`,
    );
  }
  return lines.join('\n');
}

export function summary(r: SoakResult): string {
  const secs = r.durationMs / 1000;
  const fmt = (v: SeriesVerdict, x: number) => (v.metric === 'rssKiB' ? `${mib(x)} MiB` : String(x));
  const lines = [
    `soak: ${r.sent} requests, seed ${r.seed}, ${secs.toFixed(0)} s (${(r.sent / secs).toFixed(0)} req/s)`,
    `statuses: ${Object.entries(r.byStatus)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}`,
    `kinds: ${Object.entries(r.byKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
    `latency: p50 ${r.latency.p50.toFixed(1)} ms, p99 ${r.latency.p99.toFixed(1)} ms, max ${r.latency.max.toFixed(0)} ms`,
    `unexpected answers: ${r.unexpected}`,
    ...r.examples.map((e) => `  ${e.kind} ${e.method} ${e.path}: ${e.problem}`),
  ];
  for (const v of r.verdicts) {
    const name = `${v.role === 'worker' ? 'proxy' : 'storage'} ${v.metric === 'rssKiB' ? 'RSS' : 'fds'}`;
    lines.push(
      v.growth
        ? `${name}: first ${fmt(v, v.first)}, 2nd-quarter median ${fmt(v, v.growth.warm)}, last-quarter median ${fmt(v, v.growth.late)} (allowed +${fmt(v, v.growth.allowed)}), max ${fmt(v, v.max)}: ${v.growth.grew ? 'GREW' : 'flat'}`
        : `${name}: too few samples for a verdict`,
    );
  }
  lines.push(soakFailed(r) ? 'FAILED' : 'ok');
  return lines.join('\n');
}

export const USAGE = `Usage: npm run soak -- [options]
  --requests N      requests in all (default 200000)
  --seed S          seed of the request mix (default 1)
  --concurrency C   connections, each its own stream of requests (default 8)
  --sample-ms MS    RSS and fd sampling interval (default 5000)
  --url URL         an already running proxy (default: start sluice in a child process)
  --pid PID         with --url: the sluice start process to sample
  --user U --key K  TempAuth credentials (default test:tester / testing)`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string', default: '200000' },
      seed: { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '8' },
      'sample-ms': { type: 'string', default: '5000' },
      url: { type: 'string' },
      pid: { type: 'string' },
      user: { type: 'string' },
      key: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let cluster: ChildCluster | undefined;
  try {
    if (!values.url) {
      cluster = await startChildCluster({ args: ['--workers', '1'], config: soakProxyConf() });
      console.log(`started ${cluster.url} (sluice start pid ${cluster.pid})`);
    }
    const result = await runSoak({
      requests: Number(values.requests),
      seed: Number(values.seed),
      url: values.url ?? cluster!.url,
      pid: values.pid !== undefined ? Number(values.pid) : cluster?.pid,
      concurrency: Number(values.concurrency),
      sampleMs: Number(values['sample-ms']),
      user: values.user,
      key: values.key,
      progress: (line) => console.log(line),
    });
    console.log(sampleTable(result.samples));
    console.log(summary(result));
    return soakFailed(result) ? 1 : 0;
  } finally {
    await cluster?.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(2);
    },
  );
}
