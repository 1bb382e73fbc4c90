/**
 * The object expirer through a whole cluster (proxy, 3 replicas): objects written with
 * X-Delete-After / X-Delete-At are queued by the object servers in `.expiring_objects`, and a
 * pass of the expirer removes their data files, their container rows and their queue rows;
 * moved or removed expiry times leave objects alone; unreachable servers keep a task for a
 * later pass; rows that are not tasks are cleaned up without stopping the pass.
 */
import { existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashMod, ObjectExpirer } from '../../../servers/expirer/expirer';
import { startObjectServer, type RunningObjectServer } from '../../../servers/object/server';
import { expirerContainer } from '../../../src/common/expiring-objects';
import { hashPath } from '../../../src/common/hash-path';
import { Ring } from '../../../src/common/ring';
import { loadSwiftConf, type SwiftConf } from '../../../src/common/swift-conf';
import { backendPath } from '../../../src/common/backend-client';
import { proxyOptionsFrom } from '../../../src/proxy/state';
import { startCluster, type TestCluster } from '../../../src/testing/index';
import { call, cluster as startTestCluster, proxyConf, uniq } from '../../proxy/helpers';

const QUEUE = '.expiring_objects';
const silent = pino({ level: 'silent' });


/** The cluster's view from outside the proxy: rings, disk and the queue account. */
class Inspector {
  readonly conf: SwiftConf;
  readonly containerRing: Ring;
  readonly accountRing: Ring;
  readonly objectRing: Ring;

  constructor(readonly c: TestCluster) {
    this.conf = loadSwiftConf(c.swiftDir);
    this.containerRing = Ring.forKind(c.swiftDir, 'container', this.conf.hash);
    this.accountRing = Ring.forKind(c.swiftDir, 'account', this.conf.hash);
    this.objectRing = Ring.forKind(c.swiftDir, 'object', this.conf.hash);
  }

  /** Files in the object's hash directory on every device (`.data`, `.ts`, ...). */
  objectFiles(a: string, cont: string, o: string): string[] {
    const hash = hashPath(this.conf.hash, a, cont, o);
    const part = String(this.objectRing.getPart(a, cont, o));
    const devicesDir = join(this.c.dataDir, 'node');
    const out: string[] = [];
    for (const dev of readdirSync(devicesDir)) {
      const dir = join(devicesDir, dev, 'objects', part, hash.slice(-3), hash);
      if (existsSync(dir)) for (const f of readdirSync(dir)) out.push(`${dev}/${f}`);
    }
    return out.sort();
  }

  dataFiles(a: string, cont: string, o: string): string[] {
    return this.objectFiles(a, cont, o).filter((f) => f.endsWith('.data'));
  }

  /** The rows every container replica lists for `account/container`, merged. */
  async rows(account: string, container: string, ring = this.containerRing): Promise<string[]> {
    const part = ring.getPart(account, container);
    const names = new Set<string>();
    for (const node of ring.getPartNodes(part)) {
      const r = await call(`http://${node.ip}:${node.port}`, 'GET', `${backendPath(node, part, `/${account}/${container}`)}?format=json`);
      if (r.status === 200) for (const row of JSON.parse(r.text) as { name: string }[]) names.add(row.name);
    }
    return [...names].sort();
  }

  /** The queue account's containers as its replicas list them. */
  queueContainers(): Promise<string[]> {
    const part = this.accountRing.getPart(QUEUE);
    return (async () => {
      const names = new Set<string>();
      for (const node of this.accountRing.getPartNodes(part)) {
        const r = await call(`http://${node.ip}:${node.port}`, 'GET', `${backendPath(node, part, `/${QUEUE}`)}?format=json`);
        if (r.status === 200) for (const row of JSON.parse(r.text) as { name: string }[]) names.add(row.name);
      }
      return [...names].sort();
    })();
  }

  queueContainerFor(deleteAt: number, a: string, cont: string, o: string, divisor = 86400): string {
    return expirerContainer(deleteAt, divisor, this.conf.hash, a, cont, o);
  }

  /** Sends a request to every primary of a queue container, with the headers given. */
  async toQueueContainer(method: string, container: string, row: string | undefined, headers: Record<string, string>): Promise<number[]> {
    const part = this.containerRing.getPart(QUEUE, container);
    const path = row === undefined ? `/${QUEUE}/${container}` : `/${QUEUE}/${container}/${row}`;
    const out: number[] = [];
    for (const node of this.containerRing.getPartNodes(part)) {
      out.push((await call(`http://${node.ip}:${node.port}`, method, backendPath(node, part, path), headers)).status);
    }
    return out;
  }
}

const ts = () => (Date.now() / 1000).toFixed(5).padStart(16, '0');

async function waitUntilPast(deleteAt: number): Promise<void> {
  const ms = deleteAt * 1000 - Date.now() + 50;
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A pino logger whose lines the test can read. */
function captureLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

function client(c: TestCluster) {
  return {
    req: (method: string, path: string, headers: Record<string, string> = {}, body?: string) => call(c.url, method, path, headers, body === undefined ? {} : { body }),
    /** PUTs an object; resolves to its X-Delete-At as stored (0 without one). */
    async put(path: string, body: string, headers: Record<string, string> = {}): Promise<number> {
      const r = await call(c.url, 'PUT', path, headers, { body });
      expect(r.status).toBe(201);
      const head = await call(c.url, 'HEAD', path);
      return Number(head.headers['x-delete-at'] ?? 0);
    },
  };
}

describe('object expirer through the proxy (3 replicas)', () => {
  let c: TestCluster;
  let at: Inspector;
  let api: ReturnType<typeof client>;
  const account = 'AUTH_exp';

  beforeAll(async () => {
    c = await startTestCluster({ replicas: 3 });
    at = new Inspector(c);
    api = client(c);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  async function container(): Promise<string> {
    const name = uniq('exp');
    expect((await api.req('PUT', `/v1/${account}/${name}`)).status).toBe(201);
    return name;
  }

  it('removes an expired object: data files, container row and stats, queue row and emptied queue container', async () => {
    const cont = await container();
    const keep = 'keeper';
    await api.put(`/v1/${account}/${cont}/${keep}`, 'stays');
    // Long enough for the account listing to catch up and an early pass to run before it is due.
    const deleteAt = await api.put(`/v1/${account}/${cont}/doomed`, 'hello', { 'X-Delete-After': '4' });
    expect(deleteAt).toBeGreaterThan(Date.now() / 1000);
    await c.object.settle();

    const queueContainer = at.queueContainerFor(deleteAt, account, cont, 'doomed');
    const task = `${deleteAt}-${account}/${cont}/doomed`;
    expect(await at.rows(QUEUE, queueContainer)).toEqual([task]);
    expect(at.dataFiles(account, cont, 'doomed')).toHaveLength(3);
    const before = await api.req('HEAD', `/v1/${account}/${cont}`);
    expect([before.headers['x-container-object-count'], before.headers['x-container-bytes-used']]).toEqual(['2', '10']);
    await waitFor('the queue container in the account listing', async () => (await at.queueContainers()).includes(queueContainer));

    // Not yet due: nothing happens.
    expect(Date.now() / 1000).toBeLessThan(deleteAt);
    const early = await c.expirer.runOnce();
    expect(early.expired).toBe(0);
    expect(at.dataFiles(account, cont, 'doomed')).toHaveLength(3);

    await waitUntilPast(deleteAt);
    const stats = await c.expirer.runOnce();
    expect(stats).toMatchObject({ tasks: 1, expired: 1, retried: 0, errors: 0, containersDeleted: 1 });

    // The space is back: only tombstones (at the delete-at time) remain on the three devices.
    expect(at.dataFiles(account, cont, 'doomed')).toEqual([]);
    const files = at.objectFiles(account, cont, 'doomed');
    expect(files).toHaveLength(3);
    for (const f of files) expect(f).toMatch(new RegExp(`/${deleteAt}\\.00000\\.ts$`));
    expect((await api.req('GET', `/v1/${account}/${cont}/doomed`)).status).toBe(404);

    const listing = await api.req('GET', `/v1/${account}/${cont}?format=json`);
    expect((JSON.parse(listing.text) as { name: string }[]).map((r) => r.name)).toEqual([keep]);
    const after = await api.req('HEAD', `/v1/${account}/${cont}`);
    expect([after.headers['x-container-object-count'], after.headers['x-container-bytes-used']]).toEqual(['1', '5']);
    expect(await at.rows(QUEUE, queueContainer)).toEqual([]);
    expect(await at.queueContainers()).not.toContain(queueContainer);
    expect((await api.req('GET', `/v1/${account}/${cont}/${keep}`)).text).toBe('stays');

    // A second pass finds nothing to do.
    expect(await c.expirer.runOnce()).toMatchObject({ tasks: 0, expired: 0, errors: 0 });
  }, 30_000);

  it('POST moving X-Delete-At later: nothing is deleted at the old time, the old row goes, the new one stays', async () => {
    const cont = await container();
    const path = `/v1/${account}/${cont}/moved`;
    const first = await api.put(path, 'still here', { 'X-Delete-After': '3' });
    const later = first + 3600;
    expect((await api.req('POST', path, { 'X-Delete-At': String(later) })).status).toBe(202);
    await c.object.settle();
    const newRow = `${later}-${account}/${cont}/moved`;
    const newContainer = at.queueContainerFor(later, account, cont, 'moved');
    expect(await at.rows(QUEUE, newContainer)).toContain(newRow);
    await waitFor('the queue containers in the account listing', async () => (await at.queueContainers()).includes(newContainer));

    await waitUntilPast(first);
    const stats = await c.expirer.runOnce();
    expect(stats.errors).toBe(0);
    expect(stats.retried).toBe(0);
    const got = await api.req('GET', path);
    expect([got.status, got.text, got.headers['x-delete-at']]).toEqual([200, 'still here', String(later)]);
    expect(at.dataFiles(account, cont, 'moved')).toHaveLength(3);
    const oldContainer = at.queueContainerFor(first, account, cont, 'moved');
    expect(await at.rows(QUEUE, oldContainer)).not.toContain(`${first}-${account}/${cont}/moved`);
    expect(await at.rows(QUEUE, newContainer)).toContain(newRow);
  }, 30_000);

  it('an overwrite without X-Delete-At survives the old time; the object updater removes the old row', async () => {
    const cont = await container();
    const path = `/v1/${account}/${cont}/rewritten`;
    const first = await api.put(path, 'v1', { 'X-Delete-After': '2' });
    expect(await api.put(path, 'version 2')).toBe(0);
    await waitUntilPast(first);
    await c.expirer.runOnce();
    const got = await api.req('GET', path);
    expect([got.status, got.text]).toEqual([200, 'version 2']);
    expect(at.dataFiles(account, cont, 'rewritten')).toHaveLength(3);

    // The overwrite asked the queue to forget the old row (an async pending, as in Swift).
    const far = Math.floor(Date.now() / 1000) + 7200;
    await api.put(path, 'v3', { 'X-Delete-At': String(far) });
    await c.object.settle();
    const farContainer = at.queueContainerFor(far, account, cont, 'rewritten');
    const farRow = `${far}-${account}/${cont}/rewritten`;
    expect(await at.rows(QUEUE, farContainer)).toContain(farRow);
    await api.put(path, 'v4');
    await c.object.updater!.runOnce();
    expect(await at.rows(QUEUE, farContainer)).not.toContain(farRow);
    expect((await api.req('GET', path)).text).toBe('v4');
  }, 30_000);

  it('an object deleted by its owner leaves a row the expirer drops', async () => {
    const cont = await container();
    const path = `/v1/${account}/${cont}/gone`;
    const deleteAt = await api.put(path, 'x', { 'X-Delete-After': '3' });
    expect((await api.req('DELETE', path)).status).toBe(204);
    await c.object.settle();
    await waitUntilPast(deleteAt);
    const row = `${deleteAt}-${account}/${cont}/gone`;
    const stats = await c.expirer.runOnce();
    expect(stats.errors).toBe(0);
    expect(await at.rows(QUEUE, at.queueContainerFor(deleteAt, account, cont, 'gone'))).not.toContain(row);
    expect(at.dataFiles(account, cont, 'gone')).toEqual([]);
  }, 30_000);

  it('rows that are not tasks are removed, rows still to come are kept, and the pass goes on', async () => {
    const [apart, anodes] = [at.accountRing.getPart(QUEUE), at.accountRing.getPartNodes(at.accountRing.getPart(QUEUE))];
    const accountHeaders = {
      'X-Account-Partition': String(apart),
      'X-Account-Host': anodes.map((n) => `${n.ip}:${n.port}`).join(','),
      'X-Account-Device': anodes.map((n) => n.device).join(','),
    };
    const rowHeaders = () => ({ 'X-Timestamp': ts(), 'X-Size': '0', 'X-Content-Type': 'text/plain', 'X-Etag': 'd41d8cd98f00b204e9800998ecf8427e' });
    // A queue container named like no time at all, and two past ones.
    for (const name of ['-junk', '0000086400', '0000172800']) {
      for (const s of await at.toQueueContainer('PUT', name, undefined, { 'X-Timestamp': ts(), ...accountHeaders })) expect([201, 202]).toContain(s);
    }
    expect(await at.toQueueContainer('PUT', '-junk', '0000000001-a/c/o', rowHeaders())).toEqual([201, 201, 201]);
    // Only rows that are not tasks, and a task whose container does not exist.
    for (const row of ['garbage', '1700000000-a/c', 'notatime-a/c/o', '0000086401-a//o', `0000086402-${account}/no-such-container/o`]) {
      expect(await at.toQueueContainer('PUT', '0000086400', row, rowHeaders())).toEqual([201, 201, 201]);
    }
    // Rows are in time order: the pass stops at the first one still to come, even before a bad name.
    const cont = await container();
    const future = Math.floor(Date.now() / 1000) + 3600;
    const later = `${future}-${account}/${cont}/later`;
    for (const row of [later, 'zzz-not-reached']) expect(await at.toQueueContainer('PUT', '0000172800', row, rowHeaders())).toEqual([201, 201, 201]);

    const stats = await c.expirer.runOnce();
    expect(stats).toMatchObject({ malformed: 4, expired: 1, errors: 0, containersDeleted: 1 });
    expect(await at.rows(QUEUE, '0000086400')).toEqual([]);
    expect(await at.rows(QUEUE, '0000172800')).toEqual([later, 'zzz-not-reached']);
    expect(await at.rows(QUEUE, '-junk')).toEqual(['0000000001-a/c/o']);
    const left = await at.queueContainers();
    expect(left).not.toContain('0000086400');
    expect(left).toEqual(expect.arrayContaining(['-junk', '0000172800']));
  }, 30_000);

  it('queues in the container the proxy names, whatever update headers a client sends', async () => {
    const cont = await container();
    const deleteAt = Math.floor(Date.now() / 1000) + 5000;
    const r = await api.req(
      'PUT',
      `/v1/${account}/${cont}/steered`,
      { 'X-Delete-At': String(deleteAt), 'X-Delete-At-Container': '0000000001', 'X-Delete-At-Host': '192.0.2.1:9', 'X-Delete-At-Device': 'evil', 'X-Delete-At-Partition': '0' },
      'x',
    );
    expect(r.status).toBe(201);
    await c.object.settle();
    expect(await at.rows(QUEUE, at.queueContainerFor(deleteAt, account, cont, 'steered'))).toEqual([`${deleteAt}-${account}/${cont}/steered`]);
    expect(await at.rows(QUEUE, '0000000001')).toEqual([]);
  }, 30_000);
});

describe('expiring_objects_container_divisor', () => {
  let c: TestCluster;
  let at: Inspector;

  beforeAll(async () => {
    c = await startTestCluster({ replicas: 1, app: { expiring_objects_container_divisor: '3600' } });
    at = new Inspector(c);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('names the queue container with the configured divisor, and the expirer finds it there', async () => {
    const api = client(c);
    expect((await api.req('PUT', '/v1/AUTH_div/c')).status).toBe(201);
    // In the first hour of a UTC day the hourly and daily names coincide, so the naming is
    // checked on an object due at noon tomorrow, whenever the test runs.
    const noon = (Math.floor(Date.now() / 86_400_000) + 1) * 86_400 + 43_200;
    expect((await api.req('PUT', '/v1/AUTH_div/c/later', { 'X-Delete-At': String(noon) }, 'x')).status).toBe(201);
    const deleteAt = await api.put('/v1/AUTH_div/c/o', 'x', { 'X-Delete-After': '2' });
    await c.object.settle();
    const noonQueue = at.queueContainerFor(noon, 'AUTH_div', 'c', 'later', 3600);
    expect(noonQueue).not.toBe(at.queueContainerFor(noon, 'AUTH_div', 'c', 'later', 86400));
    expect(await at.rows(QUEUE, noonQueue)).toEqual([`${noon}-AUTH_div/c/later`]);
    const hourly = at.queueContainerFor(deleteAt, 'AUTH_div', 'c', 'o', 3600);
    expect(await at.rows(QUEUE, hourly)).toEqual([`${deleteAt}-AUTH_div/c/o`]);
    await waitFor('the queue container in the account listing', async () => (await at.queueContainers()).includes(hourly));
    await waitUntilPast(deleteAt);
    expect(await c.expirer.runOnce()).toMatchObject({ expired: 1, errors: 0 });
    expect(at.dataFiles('AUTH_div', 'c', 'o')).toEqual([]);
  }, 30_000);

  it('processes/process split the tasks between expirers by Swift\'s hash_mod', async () => {
    // Values from swift.obj.expirer.ObjectExpirer.hash_mod.
    expect(hashMod('1699919966/1700000000-a/c/o', 3)).toBe(0);
    expect(hashMod('0000086400/0000086401-AUTH_x/c/☃', 7)).toBe(4);
    expect(hashMod('x', 2)).toBe(0);

    const api = client(c);
    expect((await api.req('PUT', '/v1/AUTH_split/c')).status).toBe(201);
    const names = ['o1', 'o2', 'o3', 'o4', 'o5', 'o6'];
    const due = new Map<string, number>();
    for (const n of names) due.set(n, await api.put(`/v1/AUTH_split/c/${n}`, n, { 'X-Delete-After': '2' }));
    await c.object.settle();
    const owner = (n: string) => {
      const deleteAt = due.get(n)!;
      return hashMod(`${at.queueContainerFor(deleteAt, 'AUTH_split', 'c', n, 3600)}/${deleteAt}-AUTH_split/c/${n}`, 2);
    };
    const queues = new Set(names.map((n) => at.queueContainerFor(due.get(n)!, 'AUTH_split', 'c', n, 3600)));
    await waitFor('the queue containers in the account listing', async () => {
      const listed = await at.queueContainers();
      return [...queues].every((q) => listed.includes(q));
    });
    await waitUntilPast(Math.max(...due.values()));

    const first = new ObjectExpirer({ swiftDir: c.swiftDir, interval: 0, processes: 2, process: 1, logger: silent });
    const second = new ObjectExpirer({ swiftDir: c.swiftDir, interval: 0, processes: 2, process: 0, logger: silent });
    try {
      const mine = names.filter((n) => owner(n) === 1);
      expect(await first.runOnce()).toMatchObject({ expired: mine.length, errors: 0 });
      for (const n of names) expect(at.dataFiles('AUTH_split', 'c', n)).toHaveLength(mine.includes(n) ? 0 : 1);
      expect(await second.runOnce()).toMatchObject({ expired: names.length - mine.length, errors: 0 });
      for (const n of names) expect(at.dataFiles('AUTH_split', 'c', n)).toEqual([]);
    } finally {
      await first.close();
      await second.close();
    }
  }, 30_000);

  it('refuses a divisor that is not a positive integer', () => {
    for (const bad of ['0', '-5', 'daily']) {
      expect(() => proxyOptionsFrom({ expiring_objects_container_divisor: bad })).toThrow(/expiring_objects_container_divisor/);
    }
    expect(proxyOptionsFrom({}).expiringObjectsContainerDivisor).toBe(86400);
  });
});

describe('unreachable storage servers', () => {
  let c: TestCluster;
  let at: Inspector;
  let restarted: RunningObjectServer | undefined;

  beforeAll(async () => {
    c = await startTestCluster({ replicas: 3 });
    at = new Inspector(c);
  }, 60_000);
  afterAll(async () => {
    await restarted?.close();
    await c?.stop();
  });

  it('keeps the task while a device answers 507, and removes that copy too once it is back', async () => {
    const api = client(c);
    expect((await api.req('PUT', '/v1/AUTH_down/c')).status).toBe(201);
    const deleteAt = await api.put('/v1/AUTH_down/c/o', 'data', { 'X-Delete-After': '2' });
    await c.object.settle();
    const queueContainer = at.queueContainerFor(deleteAt, 'AUTH_down', 'c', 'o');
    await waitFor('the queue container in the account listing', async () => (await at.queueContainers()).includes(queueContainer));
    await waitUntilPast(deleteAt);

    // One object replica's device goes away (Swift's unmounted drive: 507).
    const node = at.objectRing.getPartNodes(at.objectRing.getPart('AUTH_down', 'c', 'o'))[1]!;
    const devDir = join(c.dataDir, 'node', node.device);
    renameSync(devDir, `${devDir}.off`);
    let stats;
    try {
      stats = await c.expirer.runOnce();
    } finally {
      renameSync(`${devDir}.off`, devDir);
    }
    expect(stats).toMatchObject({ expired: 0, retried: 1 });
    // The other two copies are gone already; the task stays for the third.
    const left = at.dataFiles('AUTH_down', 'c', 'o');
    expect(left).toHaveLength(1);
    expect(left[0]!.startsWith(`${node.device}/`)).toBe(true);
    expect(await at.rows(QUEUE, queueContainer)).toEqual([`${deleteAt}-AUTH_down/c/o`]);

    const again = await c.expirer.runOnce();
    expect(again).toMatchObject({ expired: 1, retried: 0, errors: 0 });
    expect(at.dataFiles('AUTH_down', 'c', 'o')).toEqual([]);
    expect(await at.rows(QUEUE, queueContainer)).toEqual([]);
  }, 30_000);

  it('keeps the task while the object server is down, logs why, and completes it when the server is back', async () => {
    const api = client(c);
    const deleteAt = await api.put('/v1/AUTH_down/c/o2', 'data', { 'X-Delete-After': '2' });
    await c.object.settle();
    const queueContainer = at.queueContainerFor(deleteAt, 'AUTH_down', 'c', 'o2');
    await waitFor('the queue container in the account listing', async () => (await at.queueContainers()).includes(queueContainer));
    await waitUntilPast(deleteAt);

    const { logger, lines } = captureLogger();
    const expirer = new ObjectExpirer({ swiftDir: c.swiftDir, interval: 0, logger, connTimeout: 0.5, nodeTimeout: 2 });
    try {
      const port = c.object.port;
      await c.object.close();
      const down = await expirer.runOnce();
      expect(down).toMatchObject({ expired: 0, retried: 1 });
      expect(lines.some((l) => l.msg === 'Could not expire object yet; will retry' && String(l.problem).includes('ECONNREFUSED'))).toBe(true);
      expect(await at.rows(QUEUE, queueContainer)).toEqual([`${deleteAt}-AUTH_down/c/o2`]);
      expect(at.dataFiles('AUTH_down', 'c', 'o2')).toHaveLength(3);

      restarted = await startObjectServer({ devices: join(c.dataDir, 'node'), host: '127.0.0.1', port, swiftDir: c.swiftDir, updaterInterval: 0 });
      const up = await expirer.runOnce();
      expect(up).toMatchObject({ expired: 1, retried: 0, errors: 0 });
      expect(at.dataFiles('AUTH_down', 'c', 'o2')).toEqual([]);
      expect(await at.rows(QUEUE, queueContainer)).toEqual([]);
      const listing = await api.req('GET', '/v1/AUTH_down/c?format=json');
      expect((JSON.parse(listing.text) as unknown[]).length).toBe(0);
    } finally {
      await expirer.close();
    }
  }, 30_000);
});

describe('the expirer loop', () => {
  it('a development cluster with an expirer interval removes expired objects by itself', async () => {
    const c = await startCluster({ replicas: 1, partPower: 4, proxyConfig: proxyConf(), expirerInterval: 0.3 });
    try {
      const at = new Inspector(c);
      const api = client(c);
      expect((await api.req('PUT', '/v1/AUTH_loop/c')).status).toBe(201);
      await api.put('/v1/AUTH_loop/c/o', 'x', { 'X-Delete-After': '1' });
      expect(at.dataFiles('AUTH_loop', 'c', 'o')).toHaveLength(1);
      await waitFor('the object to be expired', async () => at.dataFiles('AUTH_loop', 'c', 'o').length === 0, 15_000);
      await waitFor('the container row to go', async () => (await api.req('HEAD', '/v1/AUTH_loop/c')).headers['x-container-object-count'] === '0');
    } finally {
      await c.stop();
    }
  }, 30_000);

  it('rejects bad settings', () => {
    expect(() => new ObjectExpirer({ swiftDir: '/nonexistent', concurrency: 0, logger: silent })).toThrow(/concurrency/);
    expect(() => new ObjectExpirer({ swiftDir: '/nonexistent', processes: 2, process: 2, logger: silent })).toThrow(/process must be less than processes/);
  });
});
