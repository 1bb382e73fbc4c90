import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { existsSync } from 'node:fs';
import { startAccountServer } from '../../../servers/account/server';
import { AccountBroker } from '../../../servers/account/broker';
import type { RunningServer } from '../../../servers/common/http';
import { dbPath } from '../../../servers/common/db';
import { hashPath } from '../../../src/common/hash-path';
import { parseSwiftConf } from '../../../src/common/swift-conf';
import { Timestamp } from '../../../src/common/timestamp';
import { makeDevices } from '../../helpers/tmp';

const conf = parseSwiftConf(`
[swift-hash]
swift_hash_path_suffix = account-test

[storage-policy:0]
name = gold
default = yes

[storage-policy:1]
name = silver
`);

let devices: ReturnType<typeof makeDevices>;
let server: RunningServer;

beforeAll(async () => {
  devices = makeDevices(['sda']);
  server = await startAccountServer({ devices: devices.dir, swiftConf: conf });
});

afterAll(async () => {
  await server?.close();
  devices?.remove();
});

interface Res {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Raw HTTP: the path is sent as given (latin-1 chars become single bytes); values likewise. */
function call(method: string, path: string, headers: Record<string, string | number> = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: server.host, port: server.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) h[k] = Array.isArray(v) ? v.join(', ') : String(v);
        resolve({ status: res.statusCode!, headers: h, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

// Recent enough that a deleted account is not yet reclaimable (a week).
let clock = Math.floor(Date.now() / 1000) - 24 * 3600;
/** A fresh, increasing timestamp (normal form). */
function ts(): string {
  clock += 1;
  return Timestamp.fromSeconds(clock).normal;
}
const at = (seconds: number) => Timestamp.fromSeconds(1_600_000_000 + seconds).normal;

let n = 0;
const acct = (base = 'AUTH_t') => `${base}${++n}`;
const utf8ToLatin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const latin1ToUtf8 = (s: string) => Buffer.from(s, 'latin1').toString('utf8');

async function putAccount(account: string, headers: Record<string, string> = {}): Promise<Res> {
  return call('PUT', `/sda/0/${account}`, { 'X-Timestamp': ts(), ...headers });
}

function report(account: string, container: string, r: { put: string; del?: string; count?: number; bytes?: number; policy?: number }, extra: Record<string, string> = {}) {
  return call('PUT', `/sda/0/${account}/${container}`, {
    'X-Put-Timestamp': r.put,
    'X-Delete-Timestamp': r.del ?? '0',
    'X-Object-Count': r.count ?? 0,
    'X-Bytes-Used': r.bytes ?? 0,
    'X-Backend-Storage-Policy-Index': r.policy ?? 0,
    'X-Trans-Id': 'tx-test',
    ...extra,
  });
}

function openBroker(account: string): AccountBroker {
  const b = AccountBroker.open(dbPath(devices.dir, 'sda', 'accounts', '0', hashPath(conf.hash, account)));
  if (!b) throw new Error('no db');
  return b;
}

describe('account PUT / HEAD', () => {
  it('creates (201), then accepts (202), and HEAD reports the account', async () => {
    const a = acct();
    const t = ts();
    const r1 = await call('PUT', `/sda/0/${a}`, { 'X-Timestamp': t });
    expect(r1.status).toBe(201);
    expect(r1.body).toBe('');
    const r2 = await putAccount(a);
    expect(r2.status).toBe(202);
    expect(r2.body).toBe('<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>');

    const h = await call('HEAD', `/sda/0/${a}`);
    expect(h.status).toBe(204);
    expect(h.body).toBe('');
    expect(h.headers['x-account-container-count']).toBe('0');
    expect(h.headers['x-account-object-count']).toBe('0');
    expect(h.headers['x-account-bytes-used']).toBe('0');
    expect(h.headers['x-put-timestamp']).not.toBe(t); // moved on by the second PUT
    expect(Timestamp.parse(h.headers['x-put-timestamp']!).compare(Timestamp.parse(t))).toBe(1);
    expect(h.headers['x-timestamp']).toMatch(/^\d{10}\.\d{5}$/); // created_at: creation wall clock
    expect(h.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(h.headers['x-account-status']).toBeUndefined();

    const hj = await call('HEAD', `/sda/0/${a}?format=json`);
    expect(hj.headers['content-type']).toBe('application/json; charset=utf-8');
    const hx = await call('HEAD', `/sda/0/${a}`, { Accept: 'application/xml' });
    expect(hx.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect((await call('HEAD', `/sda/0/${a}`, { Accept: 'image/png' })).status).toBe(406);
  });

  it('answers 404 with an empty body for a missing account', async () => {
    const a = acct();
    for (const [method, headers] of [
      ['HEAD', {}],
      ['GET', {}],
      ['POST', { 'X-Timestamp': ts() }],
      ['DELETE', { 'X-Timestamp': ts() }],
    ] as const) {
      const r = await call(method, `/sda/0/${a}`, headers);
      expect(r.status, method).toBe(404);
      expect(r.body).toBe('');
      expect(r.headers['x-account-status']).toBeUndefined();
    }
  });

  it('requires a valid X-Timestamp on PUT, POST and DELETE (400)', async () => {
    const a = acct();
    const missing = await call('PUT', `/sda/0/${a}`);
    expect(missing.status).toBe(400);
    expect(missing.body).toBe('Missing X-Timestamp header');
    const bad = await call('PUT', `/sda/0/${a}`, { 'X-Timestamp': 'yesterday' });
    expect(bad.status).toBe(400);
    expect(bad.body).toBe("X-Timestamp should be a UNIX timestamp float value; was 'yesterday'");
    expect(existsSync(dbPath(devices.dir, 'sda', 'accounts', '0', hashPath(conf.hash, a)))).toBe(false);
    await putAccount(a);
    expect((await call('POST', `/sda/0/${a}`)).status).toBe(400);
    expect((await call('DELETE', `/sda/0/${a}`, { 'X-Timestamp': 'x' })).status).toBe(400);
    expect((await call('HEAD', `/sda/0/${a}`)).status).toBe(204);
  });

  it('answers 507 naming the drive when the device is missing', async () => {
    for (const [method, headers] of [
      ['PUT', { 'X-Timestamp': ts() }],
      ['HEAD', {}],
      ['GET', {}],
      ['POST', { 'X-Timestamp': ts() }],
      ['DELETE', { 'X-Timestamp': ts() }],
    ] as const) {
      const r = await call(method, '/sdz/0/AUTH_x', headers);
      expect(r.status, method).toBe(507);
      if (method !== 'HEAD') expect(r.body).toContain('Drive: sdz');
    }
    expect((await call('PUT', '/sdz/0/AUTH_x/c', { 'X-Put-Timestamp': ts() })).status).toBe(507);
  });

  it('rejects bad paths with 400', async () => {
    expect((await call('HEAD', '/sda/0')).status).toBe(400);
    const r = await call('GET', '/sda/0');
    expect(r.status).toBe(400);
    expect(r.body).toBe('Invalid path: /sda/0');
    expect((await call('HEAD', '/sda/0/a/c')).status).toBe(400); // containers only on PUT
    expect((await call('POST', '/sda/0/a/c', { 'X-Timestamp': ts() })).status).toBe(400);
    expect((await call('PUT', '/sda/0/a/c/o', { 'X-Timestamp': ts() })).status).toBe(400);
    expect((await call('HEAD', '/sda/../a')).status).toBe(400);
    const part = await call('PUT', `/sda/${'9'.repeat(300)}/a`, { 'X-Timestamp': ts() });
    expect(part.status).toBe(400);
    expect(part.body).toMatch(/^Invalid partition: /);
    expect((await call('PUT', '/sda/p1/a', { 'X-Timestamp': ts() })).status).toBe(400);
    expect((await call('HEAD', `/sda/${'x'.repeat(300)}/a`)).status).toBe(404);
    expect((await call('HEAD', '/sda/0/a')).status).toBe(404);
  });

  it('answers 412 "Invalid UTF8" for a path that is not UTF-8', async () => {
    const r = await call('HEAD', '/sda/0/AUTH_%FF');
    expect(r.status).toBe(412);
    const g = await call('GET', '/sda/0/AUTH_%C3');
    expect(g.status).toBe(412);
    expect(g.body).toBe('Invalid UTF8');
    const name = 'AUTH_ünï';
    expect((await call('PUT', `/sda/0/${encodeURIComponent(name)}`, { 'X-Timestamp': ts() })).status).toBe(201);
    expect((await call('HEAD', `/sda/0/${encodeURIComponent(name)}`)).status).toBe(204);
  });

  it('allows NUL only as the start of a reserved-namespace name, as Swift’s account server', async () => {
    const mid = await call('PUT', '/sda/0/AUTH_a%00b', { 'X-Timestamp': ts() });
    expect(mid.status).toBe(400);
    expect(mid.body).toBe('Invalid reserved-namespace account');
    expect((await call('PUT', '/sda/0/%00reserved', { 'X-Timestamp': ts() })).status).toBe(201);
    const a = acct();
    await putAccount(a);
    const c = await report(a, 'c%00v', { put: ts() });
    expect(c.status).toBe(400);
    expect(c.body).toBe('Invalid reserved-namespace container');
  });

  it('answers OPTIONS and refuses other methods with 405', async () => {
    const o = await call('OPTIONS', '/sda/0/a');
    expect(o.status).toBe(200);
    expect(o.headers.allow).toBe('DELETE, GET, HEAD, OPTIONS, POST, PUT');
    expect(o.headers.server).toMatch(/^account-server/);
    expect((await call('COPY', '/sda/0/a')).status).toBe(405);
  });
});

describe('metadata', () => {
  it('stores meta and sysmeta and returns non-empty values title-cased', async () => {
    const a = acct();
    const r = await putAccount(a, {
      'X-Account-Meta-Color': 'blue',
      'x-account-sysmeta-secret': 's3',
      'X-Account-Meta-Unicode': utf8ToLatin1('café ☕'),
      'X-Account-Meta-': 'not meta',
      'X-Other': 'ignored',
    });
    expect(r.status).toBe(201);
    const h = await call('HEAD', `/sda/0/${a}`);
    expect(h.headers['x-account-meta-color']).toBe('blue');
    expect(h.headers['x-account-sysmeta-secret']).toBe('s3');
    expect(latin1ToUtf8(h.headers['x-account-meta-unicode']!)).toBe('café ☕');
    expect(h.headers['x-other']).toBeUndefined();
    expect(h.headers['x-account-meta-']).toBeUndefined();
    const b = openBroker(a);
    try {
      expect([...b.metadata.all().keys()].sort()).toEqual(['x-account-meta-color', 'x-account-meta-unicode', 'x-account-sysmeta-secret']);
    } finally {
      b.close();
    }
  });

  it('lets the newest X-Timestamp win, whatever order the writes arrive in', async () => {
    const a = acct();
    await call('PUT', `/sda/0/${a}`, { 'X-Timestamp': at(0) });
    // newer first, then older
    expect((await call('POST', `/sda/0/${a}`, { 'X-Timestamp': at(3), 'X-Account-Meta-K': 'newer' })).status).toBe(204);
    expect((await call('POST', `/sda/0/${a}`, { 'X-Timestamp': at(2), 'X-Account-Meta-K': 'older' })).status).toBe(204);
    expect((await call('HEAD', `/sda/0/${a}`)).headers['x-account-meta-k']).toBe('newer');
    // older first, then newer
    await call('POST', `/sda/0/${a}`, { 'X-Timestamp': at(4), 'X-Account-Meta-J': 'one' });
    await call('POST', `/sda/0/${a}`, { 'X-Timestamp': at(5), 'X-Account-Meta-J': 'two' });
    expect((await call('HEAD', `/sda/0/${a}`)).headers['x-account-meta-j']).toBe('two');
    // A PUT carries metadata with the same rule.
    await call('PUT', `/sda/0/${a}`, { 'X-Timestamp': at(1), 'X-Account-Meta-J': 'stale' });
    expect((await call('HEAD', `/sda/0/${a}`)).headers['x-account-meta-j']).toBe('two');
  });

  it("deletes a key with '' and an older write does not bring it back", async () => {
    const a = acct();
    await call('PUT', `/sda/0/${a}`, { 'X-Timestamp': at(0), 'X-Account-Meta-Gone': 'here', 'X-Account-Sysmeta-Gone': 'here' });
    await call('POST', `/sda/0/${a}`, { 'X-Timestamp': at(10), 'X-Account-Meta-Gone': '', 'X-Account-Sysmeta-Gone': '' });
    let h = await call('HEAD', `/sda/0/${a}`);
    expect(h.headers['x-account-meta-gone']).toBeUndefined();
    expect(h.headers['x-account-sysmeta-gone']).toBeUndefined();
    await call('POST', `/sda/0/${a}`, { 'X-Timestamp': at(5), 'X-Account-Meta-Gone': 'zombie' });
    h = await call('HEAD', `/sda/0/${a}`);
    expect(h.headers['x-account-meta-gone']).toBeUndefined();
    await call('POST', `/sda/0/${a}`, { 'X-Timestamp': at(11), 'X-Account-Meta-Gone': 'back' });
    expect((await call('HEAD', `/sda/0/${a}`)).headers['x-account-meta-gone']).toBe('back');
  });

  it('rejects metadata that is not UTF-8 or over the limits with 400, writing nothing', async () => {
    const a = acct();
    await putAccount(a, { 'X-Account-Meta-Keep': 'yes' });
    const bad = await call('POST', `/sda/0/${a}`, { 'X-Timestamp': ts(), 'X-Account-Meta-Bad': '\xff\xfe', 'X-Account-Meta-Keep': 'no' });
    expect(bad.status).toBe(400);
    expect(bad.body).toBe('Metadata must be valid UTF-8');

    const many: Record<string, string> = { 'X-Timestamp': ts() };
    for (let i = 0; i < 90; i++) many[`X-Account-Meta-M${i}`] = 'v';
    const tooMany = await call('POST', `/sda/0/${a}`, many); // 90 + the stored one
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toBe('Too many metadata items; max 90');

    const big: Record<string, string> = { 'X-Timestamp': ts() };
    for (let i = 0; i < 17; i++) big[`X-Account-Meta-B${i}`] = 'x'.repeat(250);
    const tooBig = await call('POST', `/sda/0/${a}`, big);
    expect(tooBig.status).toBe(400);
    expect(tooBig.body).toBe('Total metadata too large; max 4096');

    // Sysmeta counts towards neither limit.
    const sys: Record<string, string> = { 'X-Timestamp': ts() };
    for (let i = 0; i < 100; i++) sys[`X-Account-Sysmeta-S${i}`] = 'v';
    expect((await call('POST', `/sda/0/${a}`, sys)).status).toBe(204);

    const h = await call('HEAD', `/sda/0/${a}`);
    expect(h.headers['x-account-meta-keep']).toBe('yes');
    expect(h.headers['x-account-meta-bad']).toBeUndefined();
    expect(h.headers['x-account-meta-m0']).toBeUndefined();
    expect(h.headers['x-account-meta-b0']).toBeUndefined();
    expect(h.headers['x-account-sysmeta-s99']).toBe('v');
  });

  it('POST to a missing account is 404', async () => {
    expect((await call('POST', `/sda/0/${acct()}`, { 'X-Timestamp': ts(), 'X-Account-Meta-A': 'b' })).status).toBe(404);
  });
});

describe('account DELETE', () => {
  it('marks the account deleted and answers for it with X-Account-Status: Deleted', async () => {
    const a = acct();
    await putAccount(a, { 'X-Account-Meta-Color': 'blue' });
    const d = await call('DELETE', `/sda/0/${a}`, { 'X-Timestamp': ts() });
    expect(d.status).toBe(204);
    expect(d.headers['x-account-status']).toBe('Deleted');

    for (const [method, headers] of [
      ['HEAD', {}],
      ['GET', {}],
      ['POST', { 'X-Timestamp': ts() }],
      ['DELETE', { 'X-Timestamp': ts() }],
    ] as const) {
      const r = await call(method, `/sda/0/${a}`, headers);
      expect(r.status, method).toBe(404);
      expect(r.headers['x-account-status'], method).toBe('Deleted');
      expect(r.body).toBe('');
    }
    const p = await putAccount(a);
    expect(p.status).toBe(403);
    expect(p.body).toBe('Recently deleted');
    expect(p.headers['x-account-status']).toBe('Deleted');

    // The DB stays as a tombstone with its metadata cleared.
    const b = openBroker(a);
    try {
      expect(b.info().status).toBe('DELETED');
      expect(b.metadata.visible().size).toBe(0);
      expect(b.metadata.get('x-account-meta-color')?.value).toBe('');
    } finally {
      b.close();
    }
  });

  it('refuses container reports to a deleted account unless told to override', async () => {
    const a = acct();
    await putAccount(a);
    await call('DELETE', `/sda/0/${a}`, { 'X-Timestamp': ts() });
    const r = await report(a, 'c', { put: ts(), count: 1, bytes: 1 });
    expect(r.status).toBe(404);
    expect(r.body).toContain('<h1>Not Found</h1>');
    const o = await report(a, 'c', { put: ts(), count: 1, bytes: 1 }, { 'X-Account-Override-Deleted': 'yes' });
    expect(o.status).toBe(201);
    const b = openBroker(a);
    try {
      expect(b.getContainer('c')?.object_count).toBe(1);
    } finally {
      b.close();
    }
  });

  it('lets a long-deleted empty account be created afresh (Swift reclaims it after reclaim_age)', async () => {
    const a = acct();
    const week = 7 * 24 * 3600;
    const old = Math.floor(Date.now() / 1000) - week - 3600;
    await call('PUT', `/sda/0/${a}`, { 'X-Timestamp': Timestamp.fromSeconds(old - 10).normal, 'X-Account-Meta-Old': 'x' });
    expect((await call('DELETE', `/sda/0/${a}`, { 'X-Timestamp': Timestamp.fromSeconds(old).normal })).status).toBe(204);
    const p = await putAccount(a);
    expect(p.status).toBe(201);
    const h = await call('HEAD', `/sda/0/${a}`);
    expect(h.status).toBe(204);
    expect(h.headers['x-account-meta-old']).toBeUndefined();
  });
});

describe('container reports', () => {
  it('404s for a missing account, but auto-creates accounts starting with "."', async () => {
    const missing = await report(acct(), 'c', { put: ts() });
    expect(missing.status).toBe(404);
    const dot = acct('.expiring_objects');
    const r = await report(dot, '1700000000', { put: ts(), count: 2, bytes: 0 });
    expect(r.status).toBe(201);
    const h = await call('HEAD', `/sda/0/${dot}`);
    expect(h.status).toBe(204);
    expect(h.headers['x-account-container-count']).toBe('1');
    expect(h.headers['x-account-object-count']).toBe('2');
  });

  it('answers 201 for a put and 204 for a delete, and keeps totals', async () => {
    const a = acct();
    await putAccount(a);
    const put = ts();
    expect((await report(a, 'c1', { put, count: 3, bytes: 30 })).status).toBe(201);
    expect((await report(a, 'c2', { put: ts(), count: 4, bytes: 40 })).status).toBe(201);
    let h = await call('HEAD', `/sda/0/${a}`);
    expect([h.headers['x-account-container-count'], h.headers['x-account-object-count'], h.headers['x-account-bytes-used']]).toEqual(['2', '7', '70']);
    // Counts change under the same put timestamp (the container updater's reports).
    expect((await report(a, 'c1', { put, count: 5, bytes: 55 })).status).toBe(201);
    h = await call('HEAD', `/sda/0/${a}`);
    expect([h.headers['x-account-container-count'], h.headers['x-account-object-count'], h.headers['x-account-bytes-used']]).toEqual(['2', '9', '95']);
    expect((await report(a, 'c1', { put, del: ts(), count: 0, bytes: 0 })).status).toBe(204);
    h = await call('HEAD', `/sda/0/${a}`);
    expect([h.headers['x-account-container-count'], h.headers['x-account-object-count'], h.headers['x-account-bytes-used']]).toEqual(['1', '4', '40']);
    const list = await call('GET', `/sda/0/${a}`);
    expect(list.body).toBe('c2\n');
  });

  it('ignores a late older report, whichever order they arrive in', async () => {
    const a = acct();
    await putAccount(a);
    const [t1, t2] = [ts(), ts()];
    // newer, then older
    await report(a, 'x', { put: t2, count: 5, bytes: 50 });
    await report(a, 'x', { put: t1, count: 3, bytes: 30 });
    // older, then newer
    await report(a, 'y', { put: t1, count: 3, bytes: 30 });
    await report(a, 'y', { put: t2, count: 5, bytes: 50 });
    const body = JSON.parse((await call('GET', `/sda/0/${a}?format=json`)).body);
    expect(body.map((e: { name: string; count: number; bytes: number }) => [e.name, e.count, e.bytes])).toEqual([
      ['x', 5, 50],
      ['y', 5, 50],
    ]);
    const iso = Timestamp.parse(t2).isoformat;
    expect(body[0].last_modified).toBe(iso);
    expect(body[1].last_modified).toBe(iso);
    const h = await call('HEAD', `/sda/0/${a}`);
    expect(h.headers['x-account-object-count']).toBe('10');
  });

  it('keeps a deleted container deleted when an older put arrives late, until a newer put', async () => {
    const a = acct();
    await putAccount(a);
    const [t1, t2, t3, t4] = [ts(), ts(), ts(), ts()];
    await report(a, 'gone', { put: t1, count: 0 });
    expect((await report(a, 'gone', { put: t1, del: t3 })).status).toBe(204);
    expect((await report(a, 'gone', { put: t2, count: 7, bytes: 70 })).status).toBe(201);
    let h = await call('HEAD', `/sda/0/${a}`);
    expect(h.headers['x-account-container-count']).toBe('0');
    expect(h.headers['x-account-object-count']).toBe('0');
    expect((await call('GET', `/sda/0/${a}`)).status).toBe(204);
    // Delete first, with no earlier put at all.
    await report(a, 'never', { put: '0', del: t3 });
    await report(a, 'never', { put: t2, count: 1 });
    expect((await call('GET', `/sda/0/${a}`)).status).toBe(204);
    // A re-create after the delete brings it back.
    await report(a, 'gone', { put: t4, count: 1, bytes: 1 });
    h = await call('HEAD', `/sda/0/${a}`);
    expect(h.headers['x-account-container-count']).toBe('1');
    expect((await call('GET', `/sda/0/${a}`)).body).toBe('gone\n');
  });

  it('validates report headers (400) rather than failing', async () => {
    const a = acct();
    await putAccount(a);
    const missing = await call('PUT', `/sda/0/${a}/c`, { 'X-Delete-Timestamp': '0', 'X-Object-Count': 0, 'X-Bytes-Used': 0 });
    expect(missing.status).toBe(400);
    expect(missing.body).toBe('Missing X-Put-Timestamp header');
    expect((await report(a, 'c', { put: 'soon' })).status).toBe(400);
    expect((await call('PUT', `/sda/0/${a}/c`, { 'X-Put-Timestamp': ts(), 'X-Delete-Timestamp': '0', 'X-Object-Count': 'many', 'X-Bytes-Used': 0 })).status).toBe(400);
    expect((await report(a, 'c', { put: ts() }, { 'X-Backend-Storage-Policy-Index': 'gold' })).status).toBe(400);
    expect((await report(a, 'c', { put: ts() }, { 'X-Timestamp': 'bad' })).status).toBe(400);
    expect((await call('GET', `/sda/0/${a}`)).status).toBe(204);
  });

  it('reports per-policy stats for the policies holding containers', async () => {
    const a = acct();
    await putAccount(a);
    await report(a, 'g1', { put: ts(), count: 1, bytes: 10, policy: 0 });
    await report(a, 'g2', { put: ts(), count: 2, bytes: 20, policy: 0 });
    await report(a, 's1', { put: ts(), count: 4, bytes: 40, policy: 1 });
    await report(a, 'u1', { put: ts(), count: 8, bytes: 80, policy: 7 }); // no such policy
    const h = await call('HEAD', `/sda/0/${a}`);
    expect(h.headers['x-account-storage-policy-gold-container-count']).toBe('2');
    expect(h.headers['x-account-storage-policy-gold-object-count']).toBe('3');
    expect(h.headers['x-account-storage-policy-gold-bytes-used']).toBe('30');
    expect(h.headers['x-account-storage-policy-silver-container-count']).toBe('1');
    expect(h.headers['x-account-storage-policy-silver-object-count']).toBe('4');
    expect(h.headers['x-account-storage-policy-silver-bytes-used']).toBe('40');
    expect(h.headers['x-account-container-count']).toBe('4');
    expect(h.headers['x-account-object-count']).toBe('15');
    expect(Object.keys(h.headers).filter((k) => k.startsWith('x-account-storage-policy-')).length).toBe(6);

    const b = await call('HEAD', `/sda/0/${acct()}`);
    expect(b.status).toBe(404);
    const empty = acct();
    await putAccount(empty);
    const e = await call('HEAD', `/sda/0/${empty}`);
    expect(Object.keys(e.headers).some((k) => k.startsWith('x-account-storage-policy-'))).toBe(false);
  });

  it('keeps totals exact under concurrent reports', async () => {
    const a = acct();
    await putAccount(a);
    const put = ts();
    const jobs: Promise<Res>[] = [];
    for (let i = 0; i < 40; i++) {
      jobs.push(report(a, `c${i}`, { put, count: i, bytes: i * 100, policy: i % 2 }));
      jobs.push(report(a, `c${i}`, { put, count: i, bytes: i * 100, policy: i % 2 }));
    }
    for (const r of await Promise.all(jobs)) expect(r.status).toBe(201);
    const h = await call('HEAD', `/sda/0/${a}`);
    expect(h.headers['x-account-container-count']).toBe('40');
    expect(h.headers['x-account-object-count']).toBe(String((39 * 40) / 2));
    expect(h.headers['x-account-bytes-used']).toBe(String((39 * 40 * 100) / 2));
    expect(h.headers['x-account-storage-policy-gold-container-count']).toBe('20');
    expect(h.headers['x-account-storage-policy-silver-container-count']).toBe('20');
  });
});

describe('account GET listings', () => {
  const names = ['a', 'a-b', 'a-c', 'a_z', 'b', 'b-x-y', 'c', 'd-e', 'été'];
  let a: string;
  const put = at(100);

  beforeAll(async () => {
    a = acct('AUTH_list');
    await putAccount(a, { 'X-Account-Meta-Listed': 'yes' });
    let i = 0;
    for (const name of names) {
      const r = await report(a, encodeURIComponent(name), { put, count: ++i, bytes: i * 10 });
      expect(r.status).toBe(201);
    }
    // Reserved-namespace containers are hidden unless asked for.
    await report(a, '%00versions%00a', { put });
  });

  const get = (query: string, headers: Record<string, string> = {}) => call('GET', `/sda/0/${a}${query}`, headers);
  const plain = async (query: string) => (await get(query)).body.split('\n').filter(Boolean);

  it('lists in name order as plain text by default, with the stat headers', async () => {
    const r = await get('');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.body).toBe(names.join('\n') + '\n');
    expect(r.headers['x-account-container-count']).toBe(String(names.length + 1));
    expect(r.headers['x-account-meta-listed']).toBe('yes');
    expect(r.headers['x-account-storage-policy-gold-container-count']).toBe(String(names.length + 1));
  });

  it('renders JSON as Swift does', async () => {
    const r = await get('?format=json&limit=2');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    const lm = Timestamp.parse(put).isoformat;
    expect(r.body).toBe(
      `[{"name": "a", "count": 1, "bytes": 10, "last_modified": "${lm}"}, {"name": "a-b", "count": 2, "bytes": 20, "last_modified": "${lm}"}]`,
    );
    const u = await get('?format=json&prefix=%C3%A9');
    expect(u.body).toContain('"name": "\\u00e9t\\u00e9"');
    expect(Number(u.headers['content-length'])).toBe(Buffer.byteLength(u.body));
  });

  it('renders XML as ElementTree does, subdirs included', async () => {
    const r = await get('?format=xml&delimiter=-&prefix=a');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/xml; charset=utf-8');
    const lm = Timestamp.parse(put).isoformat;
    expect(r.body).toBe(
      `<?xml version="1.0" encoding="UTF-8"?>\n<account name="${a}">\n` +
        `<container><name>a</name><count>1</count><bytes>10</bytes><last_modified>${lm}</last_modified></container>\n` +
        `<subdir name="a-" />\n` +
        `<container><name>a_z</name><count>4</count><bytes>40</bytes><last_modified>${lm}</last_modified></container>\n` +
        `</account>`,
    );
    const t = await get('', { Accept: 'text/xml' });
    expect(t.headers['content-type']).toBe('text/xml; charset=utf-8');
  });

  it('negotiates with Accept, format= winning', async () => {
    expect((await get('', { Accept: 'application/json' })).headers['content-type']).toBe('application/json; charset=utf-8');
    expect((await get('?format=plain', { Accept: 'application/json' })).headers['content-type']).toBe('text/plain; charset=utf-8');
    expect((await get('', { Accept: 'image/png' })).status).toBe(406);
  });

  it('applies limit, and refuses a limit over the maximum with 412', async () => {
    expect(await plain('?limit=3')).toEqual(['a', 'a-b', 'a-c']);
    const r = await get('?limit=10001');
    expect(r.status).toBe(412);
    expect(r.body).toBe('Maximum limit is 10000');
    expect(r.headers['content-type']).toBe('text/html; charset=UTF-8');
    expect(await plain('?limit=junk')).toEqual(names); // not a number: the default
  });

  it('applies marker, end_marker and prefix', async () => {
    expect(await plain('?marker=b')).toEqual(['b-x-y', 'c', 'd-e', 'été']);
    expect(await plain('?end_marker=a_z')).toEqual(['a', 'a-b', 'a-c']);
    expect(await plain('?marker=a&end_marker=b')).toEqual(['a-b', 'a-c', 'a_z']);
    expect(await plain('?prefix=a-')).toEqual(['a-b', 'a-c']);
    expect(await plain('?prefix=zzz')).toEqual([]);
  });

  it('rolls names up into subdirs with a delimiter', async () => {
    expect(await plain('?delimiter=-')).toEqual(['a', 'a-', 'a_z', 'b', 'b-', 'c', 'd-', 'été']);
    expect(await plain('?delimiter=-&prefix=b-')).toEqual(['b-x-']);
    expect(await plain('?delimiter=-&limit=3')).toEqual(['a', 'a-', 'a_z']);
    const j = JSON.parse((await get('?delimiter=-&prefix=d&format=json')).body);
    expect(j).toEqual([{ subdir: 'd-' }]);
  });

  it('reverses, with markers swapped as Swift does', async () => {
    expect(await plain('?reverse=true')).toEqual([...names].reverse());
    expect(await plain('?reverse=on&limit=2')).toEqual(['été', 'd-e']);
    expect(await plain('?reverse=yes&marker=c')).toEqual(['b-x-y', 'b', 'a_z', 'a-c', 'a-b', 'a']);
    expect(await plain('?reverse=1&marker=c&end_marker=a-c')).toEqual(['b-x-y', 'b', 'a_z']);
    expect(await plain('?reverse=true&delimiter=-')).toEqual(['été', 'd-', 'c', 'b-', 'b', 'a_z', 'a-', 'a']);
  });

  it('shows reserved-namespace containers only with X-Backend-Allow-Reserved-Names', async () => {
    expect((await get('')).body).not.toContain('\0');
    const r = await get('?format=json', { 'X-Backend-Allow-Reserved-Names': 'true' });
    expect(JSON.parse(r.body)[0].name).toBe('\0versions\0a');
  });

  it('answers an empty listing: plain 204, JSON and XML 200', async () => {
    const e = acct();
    await putAccount(e);
    const p = await call('GET', `/sda/0/${e}`);
    expect(p.status).toBe(204);
    expect(p.body).toBe('');
    expect(p.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(p.headers['x-account-container-count']).toBe('0');
    const j = await call('GET', `/sda/0/${e}?format=json`);
    expect(j.status).toBe(200);
    expect(j.body).toBe('[]');
    const x = await call('GET', `/sda/0/${e}?format=xml`);
    expect(x.status).toBe(200);
    expect(x.body).toBe(`<?xml version="1.0" encoding="UTF-8"?>\n<account name="${e}">\n</account>`);
  });

  it('rejects bad listing parameters', async () => {
    expect((await get('?prefix=%FF')).status).toBe(400);
    expect((await get('?prefix=%FF')).body).toBe('"prefix" parameter not valid UTF-8');
  });
});
