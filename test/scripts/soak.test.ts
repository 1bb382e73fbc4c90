/**
 * The soak (scripts/soak.ts) in CI: its growth check against synthetic series (flat, noisy,
 * leaking), its answer checks against a server that answers wrongly, and a short real run
 * (2,000 requests against `sluice start --workers 1` in a child process) with no unexpected
 * answer and the proxy's and storage servers' RSS and fds sampled. The 200,000-request run is in
 * docs/reliability.md.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FD_LIMIT, growth, RSS_LIMIT } from '../../scripts/lib/soak-growth';
import { soakProxyConf, startChildCluster, type ChildCluster } from '../../scripts/lib/soak-cluster';
import { runSoak, soakFailed, summary, verdicts, type Sample, type SoakResult } from '../../scripts/soak';

const SEED = 20261203;

/** 40 samples of a proxy and a storage process; `leak` adds to the proxy's RSS (KiB) per sample. */
function samples(opts: { rssLeakKiB?: number; fdLeak?: number; noiseKiB?: number } = {}): Sample[] {
  return Array.from({ length: 40 }, (_, i) => {
    const noise = opts.noiseKiB ? ((i * 7919) % 13) / 12 - 0.5 : 0;
    return {
      at: i * 5000,
      done: i * 1000,
      processes: [
        { pid: 2, role: 'worker' as const, rssKiB: 150_000 + (opts.noiseKiB ?? 0) * noise + i * (opts.rssLeakKiB ?? 0), fds: 40 + i * (opts.fdLeak ?? 0) },
        { pid: 1, role: 'primary' as const, rssKiB: 170_000, fds: 80 },
      ],
    };
  });
}

describe('the growth check', () => {
  it('passes a flat series and a noisy one, and gives no verdict on too few samples', () => {
    expect(growth(Array(40).fill(100_000), RSS_LIMIT)?.grew).toBe(false);
    // ±12 MiB of noise around a flat line is not growth.
    const noisy = verdicts(samples({ noiseKiB: 24 * 1024 }));
    expect(noisy.map((v) => [v.role, v.metric, v.growth?.grew])).toEqual([
      ['worker', 'rssKiB', false],
      ['worker', 'fds', false],
      ['primary', 'rssKiB', false],
      ['primary', 'fds', false],
    ]);
    expect(growth([1, 2, 3, 4, 5, 6, 7], RSS_LIMIT)).toBeUndefined();
  });

  it('tells a leak by its size past warm-up: 1 MiB per sample stays within 20 %, 2 MiB does not', () => {
    const v = verdicts(samples({ rssLeakKiB: 1024 })).find((x) => x.role === 'worker' && x.metric === 'rssKiB')!;
    // Medians of samples 10..19 and 30..39: 14.5 and 34.5 MiB above the start, 20 MiB apart.
    expect(v.growth).toEqual({ warm: 150_000 + 14.5 * 1024, late: 150_000 + 34.5 * 1024, allowed: 0.2 * (150_000 + 14.5 * 1024), grew: false });
    // Twice that rate is past 20 %.
    const faster = verdicts(samples({ rssLeakKiB: 2048 })).find((x) => x.role === 'worker' && x.metric === 'rssKiB')!;
    expect(faster.growth?.grew).toBe(true);
  });

  it('fails a process leaking a file descriptor per sample', () => {
    const v = verdicts(samples({ fdLeak: 1 })).find((x) => x.role === 'worker' && x.metric === 'fds')!;
    expect(v.growth).toMatchObject({ warm: 54.5, late: 74.5, grew: true });
    expect(growth(Array.from({ length: 40 }, (_, i) => 40 + (i % 3)), FD_LIMIT)?.grew).toBe(false);
  });

  it('fails the run on growth alone', () => {
    const clean: SoakResult = { seed: 1, sent: 10, durationMs: 1, byStatus: { 200: 10 }, byKind: {}, unexpected: 0, examples: [], latency: { p50: 1, p99: 1, max: 1 }, samples: samples(), verdicts: verdicts(samples()) };
    expect(soakFailed(clean)).toBe(false);
    const leaking = { ...clean, verdicts: verdicts(samples({ fdLeak: 1 })) };
    expect(soakFailed(leaking)).toBe(true);
    expect(summary(leaking)).toMatch(/proxy fds: first 40, 2nd-quarter median 54\.5, last-quarter median 74\.5 \(allowed \+13\.625\), max 79: GREW\n[^]*FAILED$/);
  });
});

describe('the answer checks', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // Logs in and creates containers as TempAuth and a proxy would; then answers 200 to everything.
    server = createServer((req, res) => {
      req.resume();
      if (req.url === '/auth/v1.0') res.writeHead(200, { 'X-Auth-Token': 'AUTH_tkfake', 'X-Storage-Url': `${url}/v1/AUTH_fake` });
      else res.statusCode = req.method === 'PUT' && req.url!.split('/').length === 4 ? 201 : 200;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('counts every wrong answer', async () => {
    const r = await runSoak({ requests: 400, seed: SEED, url, concurrency: 4, sampleMs: 1000 });
    expect(r.sent).toBe(400);
    // 200 for everything: PUTs (201), account HEADs (204), refusals (4xx) and listings (no JSON) are all wrong.
    expect(r.unexpected).toBeGreaterThan(300);
    expect(r.examples.length).toBe(20);
    expect(r.examples.some((e) => e.kind === 'put' && e.problem === 'status 200, expected 201')).toBe(true);
    expect(soakFailed(r)).toBe(true);
  });
});

describe('a short soak against the CLI', () => {
  let cluster: ChildCluster;
  beforeAll(async () => {
    cluster = await startChildCluster({ args: ['--workers', '1'], config: soakProxyConf() });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('sends 2,000 mixed requests, every answer as expected, sampling the proxy and the storage servers', async () => {
    const r = await runSoak({ requests: 2000, seed: SEED, url: cluster.url, pid: cluster.pid, concurrency: 6, sampleMs: 250 });
    console.info(summary(r));
    expect(r.examples).toEqual([]);
    expect(r.unexpected).toBe(0);
    expect(r.sent).toBe(2000);
    expect(Object.keys(r.byStatus).sort()).toEqual(['200', '201', '202', '204', '206', '400', '401', '404', '416']);
    expect(Object.keys(r.byKind)).toHaveLength(14);
    expect(r.samples.length).toBeGreaterThanOrEqual(8);
    // One proxy worker and the primary (storage servers), each with an RSS and open fds.
    for (const s of r.samples) expect(s.processes.map((p) => p.role).sort()).toEqual(['primary', 'worker']);
    expect(r.verdicts.map((v) => `${v.role} ${v.metric}`)).toEqual(['worker rssKiB', 'worker fds', 'primary rssKiB', 'primary fds']);
    for (const v of r.verdicts) {
      expect(v.first).toBeGreaterThan(0);
      expect(v.growth).toBeDefined();
    }
  }, 180_000);
});
