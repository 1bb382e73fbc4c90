// Smoke tests for `npm run bench` (scripts/bench.ts): ~1 s of load per operation, checking the
// table and JSON shape and that every request was answered. No speed assertions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { main, OPS, type BenchReport, type OpStats } from '../../scripts/bench';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-bench-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

function expectStats(s: OpStats, rss: 'number' | 'null', storageCpu: 'number' | 'null'): void {
  for (const k of ['reqPerSec', 'mbPerSec', 'p50Ms', 'p99Ms', 'requests', 'errors', 'timeouts', 'non2xx'] as const) expect(typeof s[k]).toBe('number');
  expect(s.requests).toBeGreaterThan(0);
  expect(s.errors).toBe(0);
  expect(s.non2xx).toBe(0);
  expect(s.failed).toBe(false);
  expect(typeof s.statusCodes).toBe('object');
  if (rss === 'number') {
    expect(s.peakRssMiB).toBeGreaterThan(0);
    // CPU time comes from the same process tree; a server that answered used some.
    expect(s.cpuUsPerReq).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(s.cpuUsPerReq)).toBe(true);
  } else {
    expect(s.peakRssMiB).toBeNull();
    expect(s.cpuUsPerReq).toBeNull();
  }
  if (storageCpu === 'number') expect(s.storageCpuUsPerReq).toBeGreaterThanOrEqual(0);
  else expect(s.storageCpuUsPerReq).toBeNull();
}

/** Table rows (after the header and separator) as cell arrays. */
function tableRows(table: string): string[][] {
  const lines = table.split('\n').filter((l) => l.startsWith('|'));
  expect(lines[0]).toMatch(
    /^\| operation +\| target +\| +req\/s \| +MB\/s \| p50 ms \| p99 ms \| errors \| +non-2xx \| peak RSS MiB \| CPU µs\/req \| storage CPU µs\/req \| worker exits \| sluice\/passthrough \|$/,
  );
  expect(lines[1]).toMatch(/^\|[-:|]+\|$/);
  return lines.slice(2).map((l) => l.slice(1, -1).split('|').map((c) => c.trim()));
}

describe('npm run bench', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('drives a --target endpoint with a passthrough baseline and writes the table and JSON', async () => {
    // Every operation, object GETs included: the load generator hangs up mid-GET when a run
    // ends, which the in-process proxy must survive.
    const ops = OPS.map((o) => o.name);
    const json = join(dir, 'target.json');
    const { io, out } = capture();
    const code = await main(
      [
        '--target', cluster.url, '--user', 'test:tester', '--key', 'testing', '--acl-user', 'test:tester3', '--acl-key', 'testing3',
        '--swift-dir', cluster.swiftDir, '--proxy-pid', String(process.pid), '--workers', '1',
        '--duration', '1', '--warmup', '0', '--initial-warmup', '0', '--connections', '4', '--ops', ops.join(','), '--json', json,
      ],
      io,
    );
    expect(code).toBe(0);

    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(report.mode).toBe('target');
    expect(report.options).toEqual({ connections: 4, duration: 1, warmup: 0, initialWarmup: 0, workers: 1, baseline: 'passthrough', code: 'compiled', auth: 'tempauth' });
    expect(report.keystone).toBeNull();
    for (const r of report.results) expect(r.keystone).toBeUndefined();
    expect(report.machine.nproc).toBeGreaterThan(0);
    expect(report.skipped).toEqual([]);
    expect(report.failedRows).toEqual([]);
    expect(out.join('\n')).not.toContain('FAILED');
    expect(report.results.map((r) => r.op)).toEqual(ops);
    for (const r of report.results) {
      expectStats(r.sluice, 'number', 'null'); // --proxy-pid is this process; target mode knows no storage pid
      expect(r.sluice.workerExits).toBeNull();
      expect(r.passthrough).not.toBeNull();
      expectStats(r.passthrough!, 'number', 'null');
      expect(r.passthrough!.workerExits).toBe(0);
      expect(r.ratio).toBeCloseTo(r.sluice.reqPerSec / r.passthrough!.reqPerSec, 6);
    }

    const rows = tableRows(out.join('\n'));
    expect(rows).toHaveLength(ops.length * 2);
    const labels = OPS.filter((o) => ops.includes(o.name)).map((o) => o.label);
    rows.forEach((cells, i) => {
      expect(cells).toHaveLength(13);
      expect(cells[0]).toBe(i % 2 === 0 ? labels[i / 2] : '');
      expect(cells[1]).toBe(i % 2 === 0 ? 'sluice' : 'passthrough');
      expect(cells[2]).toMatch(/^\d+$/);
      expect(cells[9]).toMatch(/^\d+$/); // CPU µs/req
      expect(cells[10]).toBe('-'); // no storage pid in target mode
      expect(cells[12]).toMatch(i % 2 === 0 ? /^\d+\.\d\d$/ : /^$/);
    });

    // The ACL row really is the read-only user: the owner granted it on the account.
    const auth = await fetch(`${cluster.url}/auth/v1.0`, { headers: { 'x-auth-user': 'test:tester', 'x-auth-key': 'testing' } });
    const acct = await fetch(auth.headers.get('x-storage-url')!, { method: 'HEAD', headers: { 'x-auth-token': auth.headers.get('x-auth-token')! } });
    expect(JSON.parse(acct.headers.get('x-account-access-control')!)).toEqual({ 'read-only': ['test:tester3'] });
    // The listing the container row reads has its 1,000 objects.
    const list = await fetch(`${auth.headers.get('x-storage-url')!}/sluice-bench-list`, { method: 'HEAD', headers: { 'x-auth-token': auth.headers.get('x-auth-token')! } });
    expect(list.headers.get('x-container-object-count')).toBe('1000');
  }, 180_000);

  it('starts its own cluster (sluice proxy and passthrough as child processes) by default', async () => {
    const json = join(dir, 'local.json');
    const { io, out, err } = capture();
    const code = await main(
      ['--workers', '1', '--duration', '1', '--warmup', '0', '--initial-warmup', '1', '--connections', '4', '--ops', 'auth,object-get-4k', '--json', json],
      io,
    );
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(report.mode).toBe('local');
    expect(report.results.map((r) => r.op)).toEqual(['auth', 'object-get-4k']);
    expect(report.options.initialWarmup).toBe(1);
    // Both servers were warmed up before the first measurement.
    expect(err.filter((l) => /warming up (sluice|passthrough): 1 s over 2 operation\(s\)/.test(l))).toHaveLength(2);
    for (const r of report.results) {
      expectStats(r.sluice, 'number', 'number');
      expectStats(r.passthrough!, 'number', 'number');
      expect(typeof r.sluice.workerExits).toBe('number');
      expect(r.passthrough!.workerExits).toBe(0);
    }
    expect(report.hwmMiB.sluice).toBeGreaterThan(0);
    expect(report.hwmMiB.passthrough).toBeGreaterThan(0);
    // object GET 4 KiB is a TWO_PROXY_OPS row: one memcached proxy alone, then two sharing the load.
    expect(report.results.map((r) => [r.op, r.memcached !== undefined, r.twoProxies !== undefined])).toEqual([
      ['auth', false, false],
      ['object-get-4k', true, true],
    ]);
    const get = report.results[1]!;
    expectStats(get.memcached!, 'number', 'number');
    expectStats(get.twoProxies!, 'number', 'number');
    expect(get.twoProxies!.statusCodes['200']).toBe(get.twoProxies!.requests);
    expect(err.filter((l) => /warming up sluice \(memcached\): 1 s over 1 operation\(s\)/.test(l))).toHaveLength(2);
    expect(tableRows(out.join('\n')).map((c) => [c[0], c[1]])).toEqual([
      ['GET /auth/v1.0', 'sluice'],
      ['', 'passthrough'],
      ['object GET 4 KiB', 'sluice'],
      ['', 'sluice, memcached'],
      ['', 'sluice ×2, memcached'],
      ['', 'passthrough'],
    ]);
    expect(out.join('\n')).toMatch(/\n {2}object GET 4 KiB: req\/s ×\d+\.\d\d, CPU µs\/req ×\d+\.\d\d; memcached instead of the in-process cache, one proxy: req\/s ×\d+\.\d\d/);
    expect(out.join('\n')).toMatch(/lifetime peak RSS \(VmHWM, primary \+ workers\): sluice \d+ MiB, passthrough \d+ MiB/);
  }, 180_000);

  it('--auth keystone: Keystone rows next to TempAuth, through a second proxy with a cached Keystone token', async () => {
    // The real Keystone when the environment names one (always under CI), else the fake.
    const source = process.env.KEYSTONE_URL && process.env.KEYSTONE_FIXTURES ? 'real' : 'fake';
    const json = join(dir, 'keystone.json');
    const { io, out, err } = capture();
    const code = await main(
      ['--auth', 'keystone', '--two-proxy', 'off', '--workers', '1', '--duration', '1', '--warmup', '0', '--initial-warmup', '1', '--connections', '4', '--ops', 'auth,account-head,object-get-4k', '--json', json],
      io,
    );
    expect(code, err.join('\n')).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(report.options.auth).toBe('keystone');
    expect(report.keystone?.source).toBe(source);
    expect(report.results.map((r) => [r.op, r.keystone !== undefined])).toEqual([
      ['auth', false],
      ['account-head', true],
      ['object-get-4k', true],
    ]);
    // Three servers were warmed up, the Keystone proxy over its two operations.
    expect(err.filter((l) => /warming up sluice \(Keystone\): 1 s over 2 operation\(s\)/.test(l))).toHaveLength(1);
    for (const r of report.results.slice(1)) {
      expectStats(r.keystone!, 'number', 'number');
      expect(r.keystoneVsTempauth!.reqPerSec).toBeCloseTo(r.keystone!.reqPerSec / r.sluice.reqPerSec, 6);
      expect(r.keystoneVsTempauth!.cpuUsPerReq).toBeCloseTo(r.keystone!.cpuUsPerReq! / r.sluice.cpuUsPerReq!, 6);
      // Cached: the token was validated during the warm-up, and not again during the row.
      if (source === 'fake') expect(r.keystoneValidations).toBe(0);
      else expect(r.keystoneValidations).toBeNull();
    }
    expect(report.hwmMiB.keystone).toBeGreaterThan(0);
    const rows = tableRows(out.join('\n'));
    expect(rows.map((c) => [c[0], c[1]])).toEqual([
      ['GET /auth/v1.0', 'sluice'],
      ['', 'passthrough'],
      ['account HEAD', 'sluice'],
      ['', 'sluice, Keystone'],
      ['', 'passthrough'],
      ['object GET 4 KiB', 'sluice'],
      ['', 'sluice, Keystone'],
      ['', 'passthrough'],
    ]);
    expect(rows[3]![12]).toMatch(/^\d+\.\d\d$/); // the Keystone row's ratio to the passthrough
    const text = out.join('\n');
    expect(text).toContain(`Keystone (${source}, ${report.keystone!.url}) next to TempAuth, same run`);
    expect(text).toMatch(/\n {2}account HEAD: req\/s ×\d+\.\d\d, CPU µs\/req ×\d+\.\d\d/);
    expect(text).toMatch(/\n {2}object GET 4 KiB: req\/s ×\d+\.\d\d, CPU µs\/req ×\d+\.\d\d/);
  }, 180_000);

  it('marks a row with any non-2xx answer FAILED in the table and the JSON, and exits 1', async () => {
    // A Swift-like endpoint that answers every other object PUT 409 (what sluice answered
    // clients for overwrites that lost a race, issue 17) and everything else as Swift would.
    let puts = 0;
    const fake: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const url = req.url ?? '';
        if (url === '/auth/v1.0') {
          res.writeHead(200, { 'x-auth-token': 'AUTH_tkfake', 'x-storage-url': `http://127.0.0.1:${(fake.address() as { port: number }).port}/v1/AUTH_test` });
        } else if (req.method === 'PUT' && url.startsWith('/v1/AUTH_test/sluice-bench/put-')) {
          res.writeHead(++puts % 2 === 0 ? 409 : 201);
        } else if (req.method === 'PUT') {
          res.writeHead(201);
        } else if (req.method === 'HEAD') {
          res.writeHead(204, { 'x-container-object-count': '1000' });
        } else {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          res.end(Buffer.alloc(4096, 0x61));
          return;
        }
        res.end();
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    try {
      const json = join(dir, 'failed.json');
      const { io, out, err } = capture();
      const code = await main(
        [
          '--target', `http://127.0.0.1:${(fake.address() as { port: number }).port}`, '--baseline', 'none',
          '--duration', '1', '--warmup', '0', '--initial-warmup', '0', '--connections', '2', '--ops', 'object-put-4k,object-get-4k', '--json', json,
        ],
        io,
      );
      expect(code).toBe(1);
      const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
      const [put, get] = report.results;
      expect(put!.sluice.failed).toBe(true);
      expect(put!.sluice.non2xx).toBeGreaterThan(0);
      expect(put!.sluice.statusCodes['409']).toBe(put!.sluice.non2xx);
      expect(get!.sluice.failed).toBe(false);
      expect(get!.sluice.non2xx).toBe(0);
      expect(report.failedRows).toEqual([
        { op: 'object-put-4k', label: 'object PUT 4 KiB', target: 'sluice', requests: put!.sluice.requests, non2xx: put!.sluice.non2xx, statusCodes: { 409: put!.sluice.non2xx } },
      ]);
      const rows = tableRows(out.join('\n'));
      expect(rows.map((c) => [c[0], c[7]])).toEqual([
        ['object PUT 4 KiB', `FAILED ${put!.sluice.non2xx}`],
        ['object GET 4 KiB', '0'],
      ]);
      const text = out.join('\n');
      expect(text).toContain('FAILED: 1 row(s) with non-2xx answers');
      expect(text).toContain(`  object PUT 4 KiB, sluice: ${put!.sluice.non2xx} of ${put!.sluice.requests} answers non-2xx (409 ×${put!.sluice.non2xx})`);
      expect(err.join('\n')).toContain('bench: 1 row(s) FAILED with non-2xx answers: object PUT 4 KiB (sluice)');
    } finally {
      await new Promise<void>((r) => fake.close(() => r()));
    }
  }, 60_000);

  it('rejects bad options with usage status 2', async () => {
    const { io, err } = capture();
    expect(await main(['--baseline', 'nginx'], io)).toBe(2);
    expect(await main(['--ops', 'object-delete'], io)).toBe(2);
    expect(await main(['--swift-dir', dir], io)).toBe(2);
    expect(await main(['--auth', 'ldap'], io)).toBe(2);
    expect(await main(['--auth', 'keystone', '--target', 'http://127.0.0.1:8080'], io)).toBe(2);
    expect(await main(['--auth', 'keystone', '--ops', 'auth,container-get'], io)).toBe(2);
    expect(err.join('\n')).toContain('--auth must be tempauth or keystone (got "ldap")');
    expect(err.join('\n')).toContain('--auth keystone starts its own Keystone proxy: not with --target');
    expect(err.join('\n')).toContain('--auth keystone measures account-head, object-get-4k: --ops has neither');
    expect(err.join('\n')).toContain('--baseline must be passthrough or none');
    const help = capture();
    expect(await main(['--help'], help.io)).toBe(0);
    expect(help.out.join('\n')).toContain(OPS.map((o) => o.name).join(', '));
  });
});
