/**
 * symlink through a whole cluster (dev pipeline: tempauth, versioned_writes, symlink): links
 * are stored as zero-byte objects with sysmeta only the middleware can write, reads follow
 * them as authorized reads of the target, and the errors are Swift's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { send, Session } from '../conformance/replayer';
import { Readable } from 'node:stream';
import { call, direct } from '../proxy/helpers';

let cluster: TestCluster;
let session: Session;
let tok: string;
let seq = 0;

beforeAll(async () => {
  cluster = await startCluster();
  session = new Session(cluster.url);
  tok = (await session.login('test:tester')).token;
  // The dev account exists once anything is written to it.
  expect((await send(cluster.url, 'POST', '/v1/AUTH_test', { 'X-Auth-Token': tok })).status).toBe(204);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const req = (method: string, path: string, headers: Record<string, string> = {}, body?: string, token = tok) =>
  send(cluster.url, method, path, { 'X-Auth-Token': token, ...headers }, body);

async function container(): Promise<string> {
  seq += 1;
  const c = `sym${process.pid}x${seq}x${Math.random().toString(36).slice(2, 7)}`;
  expect((await req('PUT', `/v1/AUTH_test/${c}`)).status).toBe(201);
  return c;
}

describe('dynamic links', () => {
  it('stores a zero-byte link with sysmeta, follows it on GET/HEAD and returns it with ?symlink=get', async () => {
    const c = await container();
    expect((await req('PUT', `/v1/AUTH_test/${c}/target`, { 'Content-Type': 'text/x-target' }, 'target body')).status).toBe(201);
    const put = await req('PUT', `/v1/AUTH_test/${c}/link`, { 'X-Symlink-Target': `${c}/target` }, '');
    expect(put.status).toBe(201);
    expect(put.headers.etag).toBe('d41d8cd98f00b204e9800998ecf8427e');

    const get = await req('GET', `/v1/AUTH_test/${c}/link`);
    expect(get.status).toBe(200);
    expect(get.body.toString()).toBe('target body');
    expect(get.headers['content-location']).toBe(`/v1/AUTH_test/${c}/target`);
    expect(get.headers['content-type']).toBe('text/x-target');
    expect(get.headers['x-symlink-target']).toBeUndefined();
    expect(Object.keys(get.headers).filter((k) => k.includes('sysmeta'))).toEqual([]);

    const head = await req('HEAD', `/v1/AUTH_test/${c}/link`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('11');
    expect(head.headers['content-location']).toBe(`/v1/AUTH_test/${c}/target`);

    const link = await req('GET', `/v1/AUTH_test/${c}/link?symlink=get`);
    expect(link.status).toBe(200);
    expect(link.body.length).toBe(0);
    expect(link.headers['content-type']).toBe('application/symlink');
    expect(link.headers['x-symlink-target']).toBe(`${c}/target`);
    expect(link.headers['content-location']).toBeUndefined();

    // What the object servers stored: sysmeta, never the client header.
    for (const r of await direct(cluster.proxy.state.rings.object.get(0)!, 'HEAD', ['AUTH_test', c, 'link'])) {
      expect(r.status).toBe(200);
      expect(r.headers['x-object-sysmeta-symlink-target']).toBe(`${c}/target`);
      expect(r.headers['x-symlink-target']).toBeUndefined();
      expect(r.headers['content-length']).toBe('0');
    }

    // The listing shows the link's path instead of the etag parameters.
    const list = await req('GET', `/v1/AUTH_test/${c}?format=json`);
    const entries = JSON.parse(list.body.toString()) as Record<string, unknown>[];
    const entry = entries.find((e) => e.name === 'link')!;
    expect(entry.hash).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(entry.symlink_path).toBe(`/v1/AUTH_test/${c}/target`);
    expect(entry.content_type).toBe('application/symlink');
    expect(entries.find((e) => e.name === 'target')!.symlink_path).toBeUndefined();
  });

  it('applies a Range to the target, not to the zero-byte link', async () => {
    const c = await container();
    await req('PUT', `/v1/AUTH_test/${c}/t`, {}, '0123456789');
    await req('PUT', `/v1/AUTH_test/${c}/l`, { 'X-Symlink-Target': `${c}/t` });
    const res = await req('GET', `/v1/AUTH_test/${c}/l`, { Range: 'bytes=2-4' });
    expect(res.status).toBe(206);
    expect(res.body.toString()).toBe('234');
  });

  it('follows at most two links, then answers 409', async () => {
    const c = await container();
    await req('PUT', `/v1/AUTH_test/${c}/obj`, {}, 'data');
    await req('PUT', `/v1/AUTH_test/${c}/l1`, { 'X-Symlink-Target': `${c}/obj` });
    await req('PUT', `/v1/AUTH_test/${c}/l2`, { 'X-Symlink-Target': `${c}/l1` });
    await req('PUT', `/v1/AUTH_test/${c}/l3`, { 'X-Symlink-Target': `${c}/l2` });
    const two = await req('GET', `/v1/AUTH_test/${c}/l2`);
    expect(two.status).toBe(200);
    expect(two.body.toString()).toBe('data');
    expect(two.headers['content-location']).toBe(`/v1/AUTH_test/${c}/obj`);
    const three = await req('GET', `/v1/AUTH_test/${c}/l3`);
    expect(three.status).toBe(409);
    expect(three.headers['content-type']).toBe('text/plain');
    expect(three.body.toString()).toBe('Too many levels of symbolic links, maximum allowed is 2');
    const head = await req('HEAD', `/v1/AUTH_test/${c}/l3`);
    expect(head.status).toBe(409);
    expect(head.body.length).toBe(0);
  });

  it('a dangling link answers 404 naming the missing target', async () => {
    const c = await container();
    await req('PUT', `/v1/AUTH_test/${c}/dangling`, { 'X-Symlink-Target': `${c}/nothing` });
    const res = await req('GET', `/v1/AUTH_test/${c}/dangling`);
    expect(res.status).toBe(404);
    expect(res.headers['content-location']).toBe(`/v1/AUTH_test/${c}/nothing`);
  });

  it('POST to a link answers 307 to the target; a POST cannot make a link', async () => {
    const c = await container();
    await req('PUT', `/v1/AUTH_test/${c}/t`, {}, 'x');
    await req('PUT', `/v1/AUTH_test/${c}/l`, { 'X-Symlink-Target': `${c}/t` });
    const post = await req('POST', `/v1/AUTH_test/${c}/l`, { 'X-Object-Meta-Color': 'red' });
    expect(post.status).toBe(307);
    expect(post.headers.location).toBe(`/v1/AUTH_test/${c}/t`);
    expect(post.body.toString()).toBe('The requested POST was applied to a symlink. POST directly to the target to apply requested metadata.');
    expect(Object.keys(post.headers).filter((k) => k.includes('sysmeta'))).toEqual([]);
    const bad = await req('POST', `/v1/AUTH_test/${c}/t`, { 'X-Symlink-Target': `${c}/t2` });
    expect(bad.status).toBe(400);
    expect(bad.body.toString()).toBe('A PUT request is required to set a symlink target');
  });

  it('rejects malformed link requests as Swift does', async () => {
    const c = await container();
    const cases: [Record<string, string>, string, number, string, string][] = [
      [{ 'X-Symlink-Target': `${c}/t` }, 'body', 400, 'Symlink requests require a zero byte body', 'text/plain'],
      [{ 'X-Symlink-Target': `/${c}/t` }, '', 412, 'X-Symlink-Target header must be of the form <container name>/<object name>', 'text/plain'],
      [{ 'X-Symlink-Target': 'noslash' }, '', 412, 'X-Symlink-Target header must be of the form <container name>/<object name>', 'text/html; charset=UTF-8'],
      [{ 'X-Symlink-Target': `${c}/self` }, '', 400, 'Symlink cannot target itself', 'text/plain'],
      [{ 'X-Symlink-Target': `${c}/t`, 'X-Symlink-Target-Etag': 'a"b' }, '', 400, 'Bad X-Symlink-Target-Etag format', 'text/plain'],
      [{ 'X-Symlink-Target': `${c}/t`, 'X-Symlink-Target-Account': 'a/b' }, '', 412, 'Account name cannot contain slashes', 'text/html; charset=UTF-8'],
    ];
    for (const [headers, body, status, text, ctype] of cases) {
      const res = await req('PUT', `/v1/AUTH_test/${c}/self`, headers, body);
      expect([res.status, res.body.toString(), res.headers['content-type']]).toEqual([status, text, ctype]);
    }
    expect((await req('HEAD', `/v1/AUTH_test/${c}/self`)).status).toBe(404);
  });

  it('a chunked link PUT must be empty too', async () => {
    const c = await container();
    const chunked = (parts: string[]) =>
      call(cluster.url, 'PUT', `/v1/AUTH_test/${c}/l`, { 'X-Auth-Token': tok, 'X-Symlink-Target': `${c}/t`, 'Transfer-Encoding': 'chunked' }, { body: Readable.from(parts) });
    const bad = await chunked(['x']);
    expect([bad.status, bad.text]).toEqual([400, 'Symlink requests require a zero byte body']);
    const ok = await chunked([]);
    expect(ok.status).toBe(201);
    expect((await req('HEAD', `/v1/AUTH_test/${c}/l?symlink=get`)).headers['x-symlink-target']).toBe(`${c}/t`);
  });

  it('normalises the stored target quoting', async () => {
    const c = await container();
    await req('PUT', `/v1/AUTH_test/${c}/caf%C3%A9`, {}, 'accent');
    expect((await req('PUT', `/v1/AUTH_test/${c}/l`, { 'X-Symlink-Target': `${c}/café` })).status).toBe(201);
    const link = await req('HEAD', `/v1/AUTH_test/${c}/l?symlink=get`);
    expect(link.headers['x-symlink-target']).toBe(`${c}/caf%C3%A9`);
    const get = await req('GET', `/v1/AUTH_test/${c}/l`);
    expect(get.body.toString()).toBe('accent');
    expect(get.headers['content-location']).toBe(`/v1/AUTH_test/${c}/caf%C3%A9`);
  });
});

describe('authorization of the target', () => {
  it('reads the target as the caller: a readable link to an unreadable object is denied', async () => {
    const t3 = (await session.login('test:tester3')).token;
    const pub = await container();
    const priv = await container();
    await req('POST', `/v1/AUTH_test/${pub}`, { 'X-Container-Read': 'test:tester3' });
    await req('PUT', `/v1/AUTH_test/${priv}/secret`, {}, 'secret');
    await req('PUT', `/v1/AUTH_test/${pub}/open`, {}, 'open');
    await req('PUT', `/v1/AUTH_test/${pub}/to-secret`, { 'X-Symlink-Target': `${priv}/secret` });
    await req('PUT', `/v1/AUTH_test/${pub}/to-open`, { 'X-Symlink-Target': `${pub}/open` });
    const denied = await req('GET', `/v1/AUTH_test/${pub}/to-secret`, {}, undefined, t3);
    expect(denied.status).toBe(403);
    expect(denied.body.toString()).not.toContain('secret');
    const allowed = await req('GET', `/v1/AUTH_test/${pub}/to-open`, {}, undefined, t3);
    expect(allowed.status).toBe(200);
    expect(allowed.body.toString()).toBe('open');
    // Once the target's container grants the read, the same link works.
    await req('POST', `/v1/AUTH_test/${priv}`, { 'X-Container-Read': 'test:tester3' });
    const now = await req('GET', `/v1/AUTH_test/${pub}/to-secret`, {}, undefined, t3);
    expect(now.status).toBe(200);
    expect(now.body.toString()).toBe('secret');
  });

  it('a link into another account is read with the caller\'s rights there', async () => {
    const t2 = (await session.login('test2:tester2')).token;
    expect((await req('PUT', '/v1/AUTH_test2/symother', {}, undefined, t2)).status).toBe(201);
    expect((await req('PUT', '/v1/AUTH_test2/symother/o', {}, 'theirs', t2)).status).toBe(201);
    const c = await container();
    const put = await req('PUT', `/v1/AUTH_test/${c}/l`, { 'X-Symlink-Target': 'symother/o', 'X-Symlink-Target-Account': 'AUTH_test2' });
    expect(put.status).toBe(201);
    const res = await req('GET', `/v1/AUTH_test/${c}/l`);
    expect(res.status).toBe(403);
    const link = await req('GET', `/v1/AUTH_test/${c}/l?symlink=get`);
    expect(link.headers['x-symlink-target-account']).toBe('AUTH_test2');
  });

  it('forged symlink sysmeta is stripped: the object stays an ordinary object', async () => {
    const c = await container();
    await req('PUT', `/v1/AUTH_test/${c}/t`, {}, 'target');
    await req('PUT', `/v1/AUTH_test/${c}/fake`, { 'X-Object-Sysmeta-Symlink-Target': `${c}/t` }, 'fake');
    const res = await req('GET', `/v1/AUTH_test/${c}/fake`);
    expect(res.body.toString()).toBe('fake');
    expect(res.headers['content-location']).toBeUndefined();
  });
});

describe('static links (X-Symlink-Target-Etag)', () => {
  it('checks the target etag when linking and again when reading', async () => {
    const c = await container();
    const t = await req('PUT', `/v1/AUTH_test/${c}/t`, { 'Content-Type': 'text/x-t' }, 'static');
    const etag = t.headers.etag!;
    const ok = await req('PUT', `/v1/AUTH_test/${c}/s`, { 'X-Symlink-Target': `${c}/t`, 'X-Symlink-Target-Etag': `"${etag}"` });
    expect(ok.status).toBe(201);
    const link = await req('HEAD', `/v1/AUTH_test/${c}/s?symlink=get`);
    expect(link.headers['x-symlink-target-etag']).toBe(etag);
    expect(link.headers['x-symlink-target-bytes']).toBe('6');
    // Without a Content-Type of its own, a static link takes the target's.
    expect(link.headers['content-type']).toBe('text/x-t');
    const list = JSON.parse((await req('GET', `/v1/AUTH_test/${c}?format=json`)).body.toString()) as Record<string, unknown>[];
    const entry = list.find((e) => e.name === 's')!;
    expect(entry).toMatchObject({ hash: 'd41d8cd98f00b204e9800998ecf8427e', symlink_path: `/v1/AUTH_test/${c}/t`, symlink_etag: etag, symlink_bytes: 6 });

    const wrong = await req('PUT', `/v1/AUTH_test/${c}/s2`, { 'X-Symlink-Target': `${c}/t`, 'X-Symlink-Target-Etag': 'abc' });
    expect(wrong.status).toBe(409);
    expect(wrong.body.toString()).toBe(`Object Etag '${etag}' does not match X-Symlink-Target-Etag header 'abc'`);
    expect(wrong.headers['content-location']).toBe(`/v1/AUTH_test/${c}/t`);

    const missing = await req('PUT', `/v1/AUTH_test/${c}/s3`, { 'X-Symlink-Target': `${c}/none`, 'X-Symlink-Target-Etag': 'abc' });
    expect(missing.status).toBe(409);
    expect(missing.body.toString()).toBe('X-Symlink-Target does not exist');

    expect((await req('GET', `/v1/AUTH_test/${c}/s`)).body.toString()).toBe('static');
    await req('PUT', `/v1/AUTH_test/${c}/t`, {}, 'changed');
    const stale = await req('GET', `/v1/AUTH_test/${c}/s`);
    expect(stale.status).toBe(409);
    expect(stale.headers['content-location']).toBe(`/v1/AUTH_test/${c}/t`);
  });
});
