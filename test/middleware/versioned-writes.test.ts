/**
 * versioned_writes legacy mode through a whole cluster (dev pipeline, allow_versioned_writes
 * on): X-Versions-Location / X-History-Location are kept as container sysmeta, overwrites
 * archive the previous object, DELETE restores (stack) or leaves a delete marker (history).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { send, Session } from '../conformance/replayer';
import { direct } from '../proxy/helpers';
import { DELETE_MARKER_CONTENT_TYPE } from '../../src/middleware/versioned-writes';

let cluster: TestCluster;
let session: Session;
let tok: string;
let seq = 0;

beforeAll(async () => {
  cluster = await startCluster();
  session = new Session(cluster.url);
  tok = (await session.login('test:tester')).token;
  expect((await send(cluster.url, 'POST', '/v1/AUTH_test', { 'X-Auth-Token': tok })).status).toBe(204);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const req = (method: string, path: string, headers: Record<string, string> = {}, body?: string, token = tok) =>
  send(cluster.url, method, path, { 'X-Auth-Token': token, ...headers }, body);

async function container(headers: Record<string, string> = {}): Promise<string> {
  seq += 1;
  const c = `vw${process.pid}x${seq}x${Math.random().toString(36).slice(2, 7)}`;
  expect((await req('PUT', `/v1/AUTH_test/${c}`, headers)).status).toBe(201);
  return c;
}

async function listing(c: string): Promise<{ name: string; content_type: string; bytes: number }[]> {
  const res = await req('GET', `/v1/AUTH_test/${c}?format=json`);
  return res.status === 204 ? [] : (JSON.parse(res.body.toString()) as { name: string; content_type: string; bytes: number }[]);
}

describe('container settings', () => {
  it('keeps X-Versions-Location as sysmeta and shows it back; removal clears it', async () => {
    const archive = await container();
    const c = await container({ 'X-Versions-Location': archive });
    const head = await req('HEAD', `/v1/AUTH_test/${c}`);
    expect(head.headers['x-versions-location']).toBe(archive);
    expect(head.headers['x-history-location']).toBeUndefined();
    for (const r of await direct(cluster.proxy.state.rings.container, 'HEAD', ['AUTH_test', c])) {
      expect(r.headers['x-container-sysmeta-versions-location']).toBe(archive);
      expect(r.headers['x-container-sysmeta-versions-mode']).toBe('stack');
      expect(r.headers['x-versions-location']).toBeUndefined();
    }
    expect((await req('POST', `/v1/AUTH_test/${c}`, { 'X-Remove-Versions-Location': 'x' })).status).toBe(204);
    expect((await req('HEAD', `/v1/AUTH_test/${c}`)).headers['x-versions-location']).toBeUndefined();
    expect((await req('POST', `/v1/AUTH_test/${c}`, { 'X-History-Location': archive })).status).toBe(204);
    const hist = await req('GET', `/v1/AUTH_test/${c}`);
    expect(hist.headers['x-history-location']).toBe(archive);
    expect(hist.headers['x-versions-location']).toBeUndefined();
    expect((await req('POST', `/v1/AUTH_test/${c}`, { 'X-History-Location': '' })).status).toBe(204);
    expect((await req('HEAD', `/v1/AUTH_test/${c}`)).headers['x-history-location']).toBeUndefined();
  });

  it('rejects both modes at once and names with slashes', async () => {
    const c = await container();
    const both = await req('POST', `/v1/AUTH_test/${c}`, { 'X-Versions-Location': 'a', 'X-History-Location': 'b' });
    expect([both.status, both.body.toString(), both.headers['content-type']]).toEqual([
      400,
      'Only one of x-versions-location or x-history-location may be specified',
      'text/plain',
    ]);
    const slash = await req('POST', `/v1/AUTH_test/${c}`, { 'X-Versions-Location': 'a/b' });
    expect([slash.status, slash.body.toString()]).toEqual([412, 'Container name cannot contain slashes']);
  });

  it('forged sysmeta does not enable versioning', async () => {
    const archive = await container();
    const c = await container({ 'X-Container-Sysmeta-Versions-Location': archive });
    await req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'v1');
    await req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'v2');
    expect(await listing(archive)).toEqual([]);
    expect((await req('HEAD', `/v1/AUTH_test/${c}`)).headers['x-versions-location']).toBeUndefined();
  });
});

describe('stack mode (X-Versions-Location)', () => {
  it('archives each overwritten version and restores them newest first on DELETE', async () => {
    const archive = await container();
    const c = await container({ 'X-Versions-Location': archive });
    for (const v of ['one', 'two', 'three']) {
      expect((await req('PUT', `/v1/AUTH_test/${c}/o`, { 'Content-Type': `text/x-${v}`, 'X-Object-Meta-V': v }, v)).status).toBe(201);
    }
    const versions = await listing(archive);
    expect(versions.map((v) => v.name)).toEqual([expect.stringMatching(/^001o\/\d{10}\.\d{5}$/), expect.stringMatching(/^001o\/\d{10}\.\d{5}$/)]);
    expect(versions.map((v) => v.content_type)).toEqual(['text/x-one', 'text/x-two']);
    const first = await req('GET', `/v1/AUTH_test/${archive}/${versions[0]!.name}`);
    expect(first.body.toString()).toBe('one');
    expect(first.headers['x-object-meta-v']).toBe('one');

    const del = await req('DELETE', `/v1/AUTH_test/${c}/o`);
    expect(del.status).toBe(204);
    const now = await req('GET', `/v1/AUTH_test/${c}/o`);
    expect([now.body.toString(), now.headers['content-type'], now.headers['x-object-meta-v']]).toEqual(['two', 'text/x-two', 'two']);
    expect((await listing(archive)).length).toBe(1);
    expect((await req('DELETE', `/v1/AUTH_test/${c}/o`)).status).toBe(204);
    expect((await req('GET', `/v1/AUTH_test/${c}/o`)).body.toString()).toBe('one');
    expect(await listing(archive)).toEqual([]);
    expect((await req('DELETE', `/v1/AUTH_test/${c}/o`)).status).toBe(204);
    expect((await req('GET', `/v1/AUTH_test/${c}/o`)).status).toBe(404);
  });

  it('names versions by the UTF-8 length of the object name', async () => {
    const archive = await container();
    const c = await container({ 'X-Versions-Location': archive });
    await req('PUT', `/v1/AUTH_test/${c}/d%C3%A9j%C3%A0/vu`, {}, 'a');
    await req('PUT', `/v1/AUTH_test/${c}/d%C3%A9j%C3%A0/vu`, {}, 'b');
    const [v] = await listing(archive);
    expect(v!.name).toMatch(/^009déjà\/vu\/\d{10}\.\d{5}$/);
  });

  it('answers 412 when the archive container is missing, and keeps the object', async () => {
    const c = await container({ 'X-Versions-Location': 'vwmissing-archive-container' });
    expect((await req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'v1')).status).toBe(201);
    const res = await req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'v2');
    expect(res.status).toBe(412);
    expect((await req('GET', `/v1/AUTH_test/${c}/o`)).body.toString()).toBe('v1');
  });

  it('a container writer can version without access to the archive; others cannot write', async () => {
    const t3 = (await session.login('test:tester3')).token;
    const archive = await container();
    const c = await container({ 'X-Versions-Location': archive, 'X-Container-Write': 'test:tester3' });
    await req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'v1');
    expect((await req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'v2', t3)).status).toBe(201);
    expect((await listing(archive)).length).toBe(1);
    expect((await req('DELETE', `/v1/AUTH_test/${c}/o`, {}, undefined, t3)).status).toBe(204);
    expect((await req('GET', `/v1/AUTH_test/${c}/o`)).body.toString()).toBe('v1');

    const locked = await container({ 'X-Versions-Location': archive });
    await req('PUT', `/v1/AUTH_test/${locked}/o`, {}, 'v1');
    expect((await req('PUT', `/v1/AUTH_test/${locked}/o`, {}, 'v2', t3)).status).toBe(403);
    expect((await req('DELETE', `/v1/AUTH_test/${locked}/o`, {}, undefined, t3)).status).toBe(403);
    expect(await listing(archive)).toEqual([]);
    expect((await req('GET', `/v1/AUTH_test/${locked}/o`)).body.toString()).toBe('v1');
  });

  it('archives a symlink as a symlink', async () => {
    const archive = await container();
    const c = await container({ 'X-Versions-Location': archive });
    await req('PUT', `/v1/AUTH_test/${c}/t`, {}, 'target');
    await req('PUT', `/v1/AUTH_test/${c}/l`, { 'X-Symlink-Target': `${c}/t` });
    await req('PUT', `/v1/AUTH_test/${c}/l`, {}, 'plain now');
    const [v] = await listing(archive);
    const link = await req('GET', `/v1/AUTH_test/${archive}/${v!.name}?symlink=get`);
    expect(link.headers['x-symlink-target']).toBe(`${c}/t`);
    expect((await req('GET', `/v1/AUTH_test/${archive}/${v!.name}`)).body.toString()).toBe('target');
    expect((await req('DELETE', `/v1/AUTH_test/${c}/l`)).status).toBe(204);
    const restored = await req('GET', `/v1/AUTH_test/${c}/l`);
    expect(restored.body.toString()).toBe('target');
    expect(restored.headers['content-location']).toBe(`/v1/AUTH_test/${c}/t`);
  });
});

describe('history mode (X-History-Location)', () => {
  it('DELETE archives the object and a delete marker, then deletes', async () => {
    const archive = await container();
    const c = await container({ 'X-History-Location': archive });
    await req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'v1');
    await req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'v2');
    expect((await req('DELETE', `/v1/AUTH_test/${c}/o`)).status).toBe(204);
    expect((await req('GET', `/v1/AUTH_test/${c}/o`)).status).toBe(404);
    const versions = await listing(archive);
    expect(versions.map((v) => [v.content_type, v.bytes])).toEqual([
      ['application/octet-stream', 2],
      ['application/octet-stream', 2],
      [DELETE_MARKER_CONTENT_TYPE, 0],
    ]);
  });
});

describe('allow_versioned_writes = false', () => {
  it('refuses to set a location', async () => {
    const conf = (await import('../../src/cluster/dev-cluster')).DEV_PROXY_CONF.replace('allow_versioned_writes = true', 'allow_versioned_writes = false');
    const off = await startCluster({ proxyConfig: conf });
    try {
      const s = new Session(off.url);
      const t = (await s.login('test:tester')).token;
      await send(off.url, 'POST', '/v1/AUTH_test', { 'X-Auth-Token': t });
      const res = await send(off.url, 'PUT', '/v1/AUTH_test/vwoff', { 'X-Auth-Token': t, 'X-Versions-Location': 'x' });
      expect([res.status, res.body.toString()]).toEqual([412, 'Versioned Writes is disabled']);
    } finally {
      await off.stop();
    }
  });
});
