/**
 * The container updater (servers/container/updater.ts): object-row updates reach the account
 * servers without a container PUT, failed reports are retried, deletions are reported, bursts
 * coalesce, the account ring is used when present, and close() stops everything.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startContainerServer, type ContainerServerOptions, type RunningContainerServer } from '../../../servers/container/server';
import { startAccountServer } from '../../../servers/account/server';
import { ContainerBroker } from '../../../servers/container/broker';
import { majoritySize, reportLanded } from '../../../servers/container/updater';
import type { RunningServer } from '../../../servers/common/http';
import { dbPath } from '../../../servers/common/db';
import { hashPath } from '../../../src/common/hash-path';
import { buildRing, Ring, writeRingFile } from '../../../src/common/ring';
import { startCluster } from '../../../src/testing/index';
import { Timestamp } from '../../../src/common/timestamp';
import { makeDevices } from '../../helpers/tmp';
import { call, ts, twoPolicyConf } from './helpers';

const conf = twoPolicyConf();

/** Polls until check() returns a truthy value (bounded: fails after `ms`, never times anything). */
async function waitFor<T>(check: () => Promise<T> | T, what: string, ms = 15_000): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const row = (base: string, path: string, size: number, extra: Record<string, string> = {}) =>
  call(base, 'PUT', path, { 'X-Timestamp': ts(), 'X-Size': String(size), 'X-Content-Type': 'text/plain', 'X-Etag': `etag-${size}`, ...extra });
const delRow = (base: string, path: string) => call(base, 'DELETE', path, { 'X-Timestamp': ts() });

/** Opens the container's DB directly to read what the updater recorded. */
function reportState(devicesDir: string, device: string, part: string, account: string, container: string) {
  const b = ContainerBroker.open(dbPath(devicesDir, device, 'containers', part, hashPath(conf.hash, account, container)));
  try {
    return b?.reportState();
  } finally {
    b?.close();
  }
}

interface Captured {
  url: string;
  headers: IncomingMessage['headers'];
  status: number;
}

/** An account server stand-in that records each request and answers `status`. */
async function fakeAccount(): Promise<{ port: number; captured: Captured[]; status: number; close(): Promise<void> }> {
  const fake = {
    port: 0,
    captured: [] as Captured[],
    status: 201,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  const server: Server = createServer((req, res) => {
    req.resume();
    fake.captured.push({ url: req.url!, headers: req.headers, status: fake.status });
    res.writeHead(fake.status, { 'Content-Length': '0' });
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.port = (server.address() as AddressInfo).port;
  return fake;
}

describe('prompt reports to a real account server', () => {
  let devices: { dir: string; remove(): void };
  let accountDevices: { dir: string; remove(): void };
  let account: RunningServer;
  let container: RunningContainerServer;
  let upd: Record<string, string>;

  beforeAll(async () => {
    devices = makeDevices(['sda']);
    accountDevices = makeDevices(['sdb']);
    account = await startAccountServer({ devices: accountDevices.dir, swiftConf: conf });
    container = await startContainerServer({ devices: devices.dir, swiftConf: conf, accountUpdateDelay: 0.05 });
    upd = { 'X-Account-Host': `127.0.0.1:${account.port}`, 'X-Account-Device': 'sdb', 'X-Account-Partition': '3' };
  });
  afterAll(async () => {
    await container.close();
    await account.close();
    devices.remove();
    accountDevices.remove();
  });

  const accountHead = (acct: string) => call(account.url, 'HEAD', `/sdb/3/${acct}`);

  it('row updates alone bring the account object count and bytes up to date', async () => {
    expect((await call(account.url, 'PUT', '/sdb/3/AUTH_u1', { 'X-Timestamp': ts() })).status).toBe(201);
    const c = '/sda/7/AUTH_u1/box';
    expect((await call(container.url, 'PUT', c, { 'X-Timestamp': ts(), ...upd })).status).toBe(201);
    // The container PUT's own account update landed: nothing left to report.
    const afterPut = reportState(devices.dir, 'sda', '7', 'AUTH_u1', 'box')!;
    expect(ContainerBroker.needsReport(afterPut)).toBe(false);
    expect(afterPut.accountHosts).toBe(`127.0.0.1:${account.port}`);
    expect(afterPut.accountPartition).toBe('3');

    expect((await row(container.url, `${c}/o1`, 40)).status).toBe(201);
    expect((await row(container.url, `${c}/o2`, 2)).status).toBe(201);
    const h = await waitFor(async () => {
      const r = await accountHead('AUTH_u1');
      return r.headers['x-account-object-count'] === '2' ? r : undefined;
    }, 'object count 2');
    expect(h.headers['x-account-bytes-used']).toBe('42');
    expect(h.headers['x-account-container-count']).toBe('1');
    expect(h.headers['x-account-storage-policy-gold-object-count']).toBe('2');
    expect(h.headers['x-account-storage-policy-gold-bytes-used']).toBe('42');
    const list = await call(account.url, 'GET', '/sdb/3/AUTH_u1?format=json');
    expect(JSON.parse(list.text)).toMatchObject([{ name: 'box', count: 2, bytes: 42 }]);

    // Overwrites and deletions too.
    expect((await row(container.url, `${c}/o1`, 10)).status).toBe(201);
    expect((await delRow(container.url, `${c}/o2`)).status).toBe(204);
    const h2 = await waitFor(async () => {
      const r = await accountHead('AUTH_u1');
      return r.headers['x-account-bytes-used'] === '10' ? r : undefined;
    }, 'bytes 10');
    expect(h2.headers['x-account-object-count']).toBe('1');
    // And the DB records what was reported.
    const s = await waitFor(() => {
      const st = reportState(devices.dir, 'sda', '7', 'AUTH_u1', 'box')!;
      return ContainerBroker.needsReport(st) ? undefined : st;
    }, 'reported state');
    expect(s.reported).toMatchObject({ objectCount: 1, bytesUsed: 10, putTimestamp: s.putTimestamp });
  });

  it('reports a container DELETE whose own account update was never sent', async () => {
    expect((await call(account.url, 'PUT', '/sdb/3/AUTH_u2', { 'X-Timestamp': ts() })).status).toBe(201);
    const c = '/sda/7/AUTH_u2/gone';
    expect((await call(container.url, 'PUT', c, { 'X-Timestamp': ts(), ...upd })).status).toBe(201);
    expect((await row(container.url, `${c}/o`, 5)).status).toBe(201);
    await waitFor(async () => (await accountHead('AUTH_u2')).headers['x-account-object-count'] === '1', 'object count 1');
    expect((await delRow(container.url, `${c}/o`)).status).toBe(204);
    // No X-Account-* headers: the updater reports to the replicas the PUT named.
    expect((await call(container.url, 'DELETE', c, { 'X-Timestamp': ts() })).status).toBe(204);
    const h = await waitFor(async () => {
      const r = await accountHead('AUTH_u2');
      return r.headers['x-account-container-count'] === '0' ? r : undefined;
    }, 'container count 0');
    expect(h.headers['x-account-object-count']).toBe('0');
    expect(h.headers['x-account-bytes-used']).toBe('0');
    const list = await call(account.url, 'GET', '/sdb/3/AUTH_u2?format=json');
    expect(JSON.parse(list.text)).toEqual([]);
  });

  it('reports a container POST (newer put timestamp)', async () => {
    expect((await call(account.url, 'PUT', '/sdb/3/AUTH_u3', { 'X-Timestamp': ts() })).status).toBe(201);
    const c = '/sda/7/AUTH_u3/c';
    expect((await call(container.url, 'PUT', c, { 'X-Timestamp': ts(), ...upd })).status).toBe(201);
    const tPost = ts();
    expect((await call(container.url, 'POST', c, { 'X-Timestamp': tPost, 'X-Container-Meta-A': 'b' })).status).toBe(204);
    await waitFor(() => reportState(devices.dir, 'sda', '7', 'AUTH_u3', 'c')!.reported.putTimestamp === tPost, 'post reported');
    const list = await call(account.url, 'GET', '/sdb/3/AUTH_u3?format=json');
    expect(JSON.parse(list.text)[0].last_modified).toBe(Timestamp.parse(tPost).isoformat);
  });
});

describe('failures and retries', () => {
  let fake: Awaited<ReturnType<typeof fakeAccount>>;
  const started: { close(): Promise<void> }[] = [];
  const dirs: { remove(): void }[] = [];

  beforeAll(async () => {
    fake = await fakeAccount();
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(async () => {
    for (const s of started.splice(0)) await s.close();
    for (const d of dirs.splice(0)) d.remove();
    fake.captured = [];
    fake.status = 201;
  });

  async function server(opts: Partial<ContainerServerOptions> = {}, devicesDir?: string): Promise<{ s: RunningContainerServer; dir: string }> {
    let dir = devicesDir;
    if (!dir) {
      const d = makeDevices(['sda']);
      dirs.push(d);
      dir = d.dir;
    }
    const s = await startContainerServer({ devices: dir, swiftConf: conf, accountUpdateDelay: 0.05, updaterInterval: 2, ...opts });
    started.push(s);
    return { s, dir };
  }
  const fakeUpd = () => ({ 'X-Account-Host': `127.0.0.1:${fake.port}`, 'X-Account-Device': 'sdb', 'X-Account-Partition': '9' });

  it('sends the updater request: path, stats, Override-Deleted, policy', async () => {
    const { s } = await server();
    const c = '/sda/1/AUTH_f/caf%C3%A9';
    expect((await call(s.url, 'PUT', c, { 'X-Timestamp': ts(), 'X-Backend-Storage-Policy-Index': '1', ...fakeUpd() })).status).toBe(201);
    expect(fake.captured).toHaveLength(1);
    expect((await row(s.url, `${c}/o`, 7, { 'X-Backend-Storage-Policy-Index': '1' })).status).toBe(201);
    const r = await waitFor(() => fake.captured.find((x) => x.headers['x-object-count'] === '1'), 'report');
    expect(r.url).toBe('/sdb/9/AUTH_f/caf%C3%A9');
    expect(r.headers['x-bytes-used']).toBe('7');
    expect(r.headers['x-account-override-deleted']).toBe('yes');
    expect(r.headers['x-backend-storage-policy-index']).toBe('1');
    expect(r.headers['x-delete-timestamp']).toBe('0000000000.00000');
    expect(r.headers['user-agent']).toMatch(/^container-updater \d+$/);
  });

  it('keeps a container dirty while its account replicas fail, and delivers once they answer', async () => {
    const { s, dir } = await server();
    const c = '/sda/2/AUTH_f/retry';
    fake.status = 503;
    // The container PUT's account update fails; so do the updater's first attempts.
    expect((await call(s.url, 'PUT', c, { 'X-Timestamp': ts(), ...fakeUpd() })).status).toBe(201);
    expect((await row(s.url, `${c}/o`, 3)).status).toBe(201);
    await waitFor(() => fake.captured.filter((x) => x.headers['x-object-count'] === '1').length >= 2, 'two failed reports');
    expect(ContainerBroker.needsReport(reportState(dir, 'sda', '2', 'AUTH_f', 'retry')!)).toBe(true);
    fake.status = 201;
    await waitFor(() => fake.captured.some((x) => x.status === 201 && x.headers['x-object-count'] === '1'), 'delivered report');
    const st = await waitFor(() => {
      const x = reportState(dir, 'sda', '2', 'AUTH_f', 'retry')!;
      return ContainerBroker.needsReport(x) ? undefined : x;
    }, 'clean state');
    expect(st.reported).toMatchObject({ objectCount: 1, bytesUsed: 3 });
    expect(s.updater.stats.failures).toBeGreaterThanOrEqual(2);
  });

  it('retries against a real account server that was down', async () => {
    const acctDevs = makeDevices(['sdb']);
    dirs.push(acctDevs);
    let account = await startAccountServer({ devices: acctDevs.dir, swiftConf: conf });
    const port = account.port;
    expect((await call(account.url, 'PUT', '/sdb/4/AUTH_down', { 'X-Timestamp': ts() })).status).toBe(201);
    const { s } = await server();
    const c = '/sda/3/AUTH_down/c';
    const upd = { 'X-Account-Host': `127.0.0.1:${port}`, 'X-Account-Device': 'sdb', 'X-Account-Partition': '4' };
    expect((await call(s.url, 'PUT', c, { 'X-Timestamp': ts(), ...upd })).status).toBe(201);
    await account.close();
    expect((await row(s.url, `${c}/o1`, 100)).status).toBe(201);
    expect((await row(s.url, `${c}/o2`, 1)).status).toBe(201);
    await waitFor(() => s.updater.stats.failures >= 1, 'a failed report');
    account = await startAccountServer({ devices: acctDevs.dir, swiftConf: conf, port });
    started.push(account);
    const h = await waitFor(async () => {
      const r = await call(account.url, 'HEAD', '/sdb/4/AUTH_down');
      return r.headers['x-account-object-count'] === '2' ? r : undefined;
    }, 'delivered after restart');
    expect(h.headers['x-account-bytes-used']).toBe('101');
  });

  it('needs a majority of replicas to count a report as delivered', async () => {
    expect(majoritySize(1)).toBe(1);
    expect(majoritySize(2)).toBe(2);
    expect(majoritySize(3)).toBe(2);
    expect(reportLanded([201, 0, 204])).toBe(true);
    expect(reportLanded([201, 503])).toBe(false);
    expect(reportLanded([404, 404])).toBe(false);
    expect(reportLanded([])).toBe(false);
  });

  it('coalesces a burst of row updates into a few reports', async () => {
    const { s } = await server({ accountUpdateDelay: 0.5 });
    const c = '/sda/4/AUTH_f/burst';
    expect((await call(s.url, 'PUT', c, { 'X-Timestamp': ts(), ...fakeUpd() })).status).toBe(201);
    const before = fake.captured.length;
    const N = 100;
    const results = await Promise.all(Array.from({ length: N }, (_, i) => row(s.url, `${c}/o${i}`, 1)));
    expect(results.every((r) => r.status === 201)).toBe(true);
    await waitFor(() => fake.captured.some((x) => x.headers['x-object-count'] === String(N)), 'final count');
    await s.updater.idle();
    const reports = fake.captured.length - before;
    expect(reports).toBeGreaterThanOrEqual(1);
    expect(reports).toBeLessThan(10);
    expect(fake.captured.at(-1)!.headers['x-bytes-used']).toBe(String(N));
  });

  it('with backgroundSweeps false (a server worker other than the first) it never sweeps but still reports its own changes', async () => {
    const { s: sweeping } = await server({ updaterInterval: 0.1 });
    const { s } = await server({ updaterInterval: 0.1, backgroundSweeps: false });
    const c = '/sda/6/AUTH_f/worker';
    expect((await call(s.url, 'PUT', c, { 'X-Timestamp': ts(), ...fakeUpd() })).status).toBe(201);
    expect((await row(s.url, `${c}/o`, 3)).status).toBe(201);
    await waitFor(() => fake.captured.some((x) => x.headers['x-object-count'] === '1'), 'the prompt report');
    await waitFor(() => sweeping.updater.stats.sweeps >= 2, 'sweeps of the server that runs them');
    expect(s.updater.stats.sweeps).toBe(0);
  });

  it('a sweep reports changes made while the updater was off (e.g. before a restart)', async () => {
    const { s: off, dir } = await server({ updaterInterval: 0 });
    const c = '/sda/5/AUTH_f/old';
    expect((await call(off.url, 'PUT', c, { 'X-Timestamp': ts(), ...fakeUpd() })).status).toBe(201);
    expect((await row(off.url, `${c}/o`, 9)).status).toBe(201);
    await off.close();
    started.splice(started.indexOf(off), 1);
    expect(fake.captured.some((x) => x.headers['x-object-count'] === '1')).toBe(false);
    const { s } = await server({ updaterInterval: 300 }, dir);
    // No change reaches this server: only the sweep can find the container.
    await s.updater.sweepNow();
    await s.updater.idle();
    expect(fake.captured.filter((x) => x.headers['x-object-count'] === '1')).toHaveLength(1);
    expect(s.updater.stats.sweeps).toBeGreaterThanOrEqual(1);
    // Clean now: another sweep sends nothing.
    const n = fake.captured.length;
    await s.updater.sweepNow();
    await s.updater.idle();
    expect(fake.captured).toHaveLength(n);
  });

  it('keeps a container with no known account replicas (no ring, never PUT with X-Account-*) dirty', async () => {
    const { s, dir } = await server();
    expect((await call(s.url, 'PUT', '/sda/6/AUTH_f/noroute', { 'X-Timestamp': ts() })).status).toBe(201);
    expect((await row(s.url, '/sda/6/AUTH_f/noroute/o', 1)).status).toBe(201);
    await s.updater.idle();
    await s.updater.sweepNow();
    await s.updater.idle();
    expect(fake.captured).toHaveLength(0);
    expect(ContainerBroker.needsReport(reportState(dir, 'sda', '6', 'AUTH_f', 'noroute')!)).toBe(true);
  });

  it('close() stops the loop: reports in flight are aborted, nothing is sent afterwards', async () => {
    const hung: IncomingMessage[] = [];
    const hang = createServer((req) => hung.push(req));
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const hangPort = (hang.address() as AddressInfo).port;
    try {
      // Containers made with the updater off: one whose account replica never answers, one
      // whose replica fails.
      const { s: setup, dir } = await server({ updaterInterval: 0, nodeTimeout: 0.3, connTimeout: 0.2 });
      const hangUpd = { 'X-Account-Host': `127.0.0.1:${hangPort}`, 'X-Account-Device': 'sdb', 'X-Account-Partition': '9' };
      expect((await call(setup.url, 'PUT', '/sda/8/AUTH_f/hang', { 'X-Timestamp': ts(), ...hangUpd })).status).toBe(201);
      expect((await row(setup.url, '/sda/8/AUTH_f/hang/o', 1)).status).toBe(201);
      fake.status = 503;
      expect((await call(setup.url, 'PUT', '/sda/8/AUTH_f/fail', { 'X-Timestamp': ts(), ...fakeUpd() })).status).toBe(201);
      expect((await row(setup.url, '/sda/8/AUTH_f/fail/o', 1)).status).toBe(201);
      await setup.close();
      started.splice(started.indexOf(setup), 1);
      const hungBefore = hung.length;

      // A node timeout far beyond the test's: close() must abort, not wait for it.
      const { s } = await server({ nodeTimeout: 600, updaterInterval: 0.2 }, dir);
      await waitFor(() => hung.length > hungBefore, 'a report in flight to the silent replica');
      await waitFor(() => fake.captured.filter((x) => x.headers['x-object-count'] === '1').length >= 2, 'retries of the failing one');
      await s.close();
      started.splice(started.indexOf(s), 1);
      const count = fake.captured.length + hung.length;
      // Well past several sweep intervals and retry backoffs: nothing more arrives.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(fake.captured.length + hung.length).toBe(count);
    } finally {
      hang.closeAllConnections();
      await new Promise((r) => hang.close(r));
    }
  });
});

describe('routing by the account ring', () => {
  it('reports to the ring primaries when <swiftDir>/account.ring.gz exists, loading it once it appears', async () => {
    const swiftDir = mkdtempSync(join(tmpdir(), 'sluice-ring-'));
    const devices = makeDevices(['sda']);
    const acctDevs = makeDevices(['sdb']);
    const account = await startAccountServer({ devices: acctDevs.dir, swiftConf: conf });
    // The ring does not exist yet when the container server starts (as in startDevStorage).
    const container = await startContainerServer({ devices: devices.dir, swiftDir, swiftConf: conf, accountUpdateDelay: 0.05 });
    try {
      mkdirSync(swiftDir, { recursive: true });
      const ringPath = join(swiftDir, 'account.ring.gz');
      writeRingFile(ringPath, buildRing({ partPower: 4, replicas: 1, devices: [{ region: 1, zone: 1, ip: '127.0.0.1', port: account.port, device: 'sdb', weight: 1 }] }));
      const part = Ring.load(ringPath, conf.hash).getPart('AUTH_ring');
      expect((await call(account.url, 'PUT', `/sdb/${part}/AUTH_ring`, { 'X-Timestamp': ts() })).status).toBe(201);
      // No X-Account-* headers anywhere: only the ring says where the account lives.
      expect((await call(container.url, 'PUT', '/sda/0/AUTH_ring/c', { 'X-Timestamp': ts() })).status).toBe(201);
      expect((await row(container.url, '/sda/0/AUTH_ring/c/o', 12)).status).toBe(201);
      const h = await waitFor(async () => {
        const r = await call(account.url, 'HEAD', `/sdb/${part}/AUTH_ring`);
        return r.headers['x-account-object-count'] === '1' ? r : undefined;
      }, 'ring-routed report');
      expect(h.headers['x-account-bytes-used']).toBe('12');
      expect(h.headers['x-account-container-count']).toBe('1');
    } finally {
      await container.close();
      await account.close();
      devices.remove();
      acctDevs.remove();
      rmSync(swiftDir, { recursive: true, force: true });
    }
  });
});

describe('container DBs made before the report columns existed', () => {
  it('gain them on open and count as unreported', () => {
    const d = makeDevices(['sda']);
    try {
      const file = join(d.dir, 'old.db');
      const b = ContainerBroker.openFile(file);
      b.transaction(() => b.initialize({ account: 'a', container: 'c', putTimestamp: '1700000000.00000', storagePolicyIndex: 0 }));
      for (const col of ['reported_put_timestamp', 'reported_delete_timestamp', 'reported_object_count', 'reported_bytes_used', 'account_hosts', 'account_devices', 'account_partition']) {
        b.db.exec(`ALTER TABLE container_info DROP COLUMN ${col}`);
      }
      b.close();
      const again = ContainerBroker.open(file)!;
      try {
        const s = again.reportState()!;
        expect(s.reported).toEqual({ putTimestamp: '0000000000.00000', deleteTimestamp: '0000000000.00000', objectCount: 0, bytesUsed: 0 });
        expect(s.accountPartition).toBe('');
        expect(ContainerBroker.needsReport(s)).toBe(true);
        again.markReported(s);
        expect(ContainerBroker.needsReport(again.reportState()!)).toBe(false);
      } finally {
        again.close();
      }
    } finally {
      d.remove();
    }
  });
});

describe('through the proxy (startCluster)', () => {
  it('an object PUT shows up in the account HEAD without touching the container', async () => {
    const cluster = await startCluster();
    try {
      const auth = await fetch(`${cluster.url}/auth/v1.0`, { headers: { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' } });
      const token = auth.headers.get('x-auth-token')!;
      const h = { 'X-Auth-Token': token };
      expect((await fetch(`${cluster.url}/v1/AUTH_test/stats`, { method: 'PUT', headers: h })).status).toBe(201);
      const before = await fetch(`${cluster.url}/v1/AUTH_test`, { method: 'HEAD', headers: h });
      expect(before.headers.get('x-account-object-count')).toBe('0');
      expect((await fetch(`${cluster.url}/v1/AUTH_test/stats/obj`, { method: 'PUT', headers: h, body: 'hello' })).status).toBe(201);
      const after = await waitFor(async () => {
        const r = await fetch(`${cluster.url}/v1/AUTH_test`, { method: 'HEAD', headers: h });
        return r.headers.get('x-account-object-count') === '1' ? r : undefined;
      }, 'X-Account-Object-Count 1');
      expect(after.headers.get('x-account-bytes-used')).toBe('5');
      expect(after.headers.get('x-account-container-count')).toBe('1');
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});
