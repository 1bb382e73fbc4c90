/**
 * dlo through a whole cluster (development pipeline with slo and dlo): X-Object-Manifest
 * objects read as their segments in listing order, with Swift's ETag, ranges across segment
 * boundaries, the manifest itself with ?multipart-manifest=get, and Swift's answers when a
 * segment cannot be read.
 */
import { describe, expect, it } from 'vitest';
import { direct, directTs } from '../proxy/helpers';
import { loSuite, md5, startLoCluster } from './large-object/helpers';

const lo = loSuite();

/** Segments seg/00, seg/01, ... with the given bodies, and a manifest `big` over them. */
async function dloObject(parts: string[], segContainer?: string): Promise<{ c: string; s: string }> {
  const c = await lo.container('dlo');
  const s = segContainer ?? c;
  for (const [i, body] of parts.entries()) expect((await lo.req('PUT', `/v1/AUTH_test/${s}/seg/${String(i).padStart(2, '0')}`, {}, body)).status).toBe(201);
  expect((await lo.req('PUT', `/v1/AUTH_test/${c}/big`, { 'X-Object-Manifest': `${s}/seg/`, 'Content-Type': 'text/x-big' }, '')).status).toBe(201);
  return { c, s };
}

describe('dlo GET and HEAD', () => {
  it('concatenates the segments in listing order with the quoted MD5 of their ETags', async () => {
    const parts = ['aaaa', 'bbbbb', '', 'cc'];
    const { c } = await dloObject(parts);
    const etag = `"${md5(parts.map((p) => md5(p)).join(''))}"`;
    const get = await lo.req('GET', `/v1/AUTH_test/${c}/big`);
    expect(get.status).toBe(200);
    expect(get.body.toString()).toBe('aaaabbbbbcc');
    expect(get.headers['content-length']).toBe('11');
    expect(get.headers.etag).toBe(etag);
    expect(get.headers['content-type']).toBe('text/x-big');
    expect(get.headers['x-object-manifest']).toBe(`${c}/seg/`);
    const head = await lo.req('HEAD', `/v1/AUTH_test/${c}/big`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('11');
    expect(head.headers.etag).toBe(etag);
    expect(head.body.length).toBe(0);
    // Conditionals compare with the large object's ETag.
    expect((await lo.req('GET', `/v1/AUTH_test/${c}/big`, { 'If-None-Match': etag })).status).toBe(304);
    expect((await lo.req('GET', `/v1/AUTH_test/${c}/big`, { 'If-Match': '"nope"' })).status).toBe(412);
    expect((await lo.req('GET', `/v1/AUTH_test/${c}/big`, { 'If-Match': etag })).status).toBe(200);
  });

  it('serves one range across segment boundaries, and the whole object for several', async () => {
    const { c } = await dloObject(['0123', '4567', '89']);
    const r = await lo.req('GET', `/v1/AUTH_test/${c}/big`, { Range: 'bytes=2-8' });
    expect(r.status).toBe(206);
    expect(r.body.toString()).toBe('2345678');
    expect(r.headers['content-range']).toBe('bytes 2-8/10');
    expect(r.headers['content-length']).toBe('7');
    const suffix = await lo.req('GET', `/v1/AUTH_test/${c}/big`, { Range: 'bytes=-3' });
    expect(suffix.status).toBe(206);
    expect(suffix.body.toString()).toBe('789');
    const multi = await lo.req('GET', `/v1/AUTH_test/${c}/big`, { Range: 'bytes=0-1,5-6' });
    expect(multi.status).toBe(200);
    expect(multi.body.toString()).toBe('0123456789');
    const bad = await lo.req('GET', `/v1/AUTH_test/${c}/big`, { Range: 'bytes=10-' });
    expect(bad.status).toBe(416);
    expect(bad.headers['content-range']).toBe('bytes */10');
    expect(bad.body.toString()).toContain('Requested Range Not Satisfiable');
  });

  it('returns the manifest itself with ?multipart-manifest=get', async () => {
    const { c } = await dloObject(['xyz']);
    const r = await lo.req('GET', `/v1/AUTH_test/${c}/big?multipart-manifest=get`);
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(0);
    expect(r.headers.etag).toBe(md5(''));
    expect(r.headers['x-object-manifest']).toBe(`${c}/seg/`);
  });

  it('is empty when no object has the prefix, and follows unicode names', async () => {
    const c = await lo.container('dlo');
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/empty`, { 'X-Object-Manifest': `${c}/nothing/` }, '')).status).toBe(201);
    const empty = await lo.req('GET', `/v1/AUTH_test/${c}/empty`);
    expect(empty.status).toBe(200);
    expect(empty.body.length).toBe(0);
    expect(empty.headers.etag).toBe(`"${md5('')}"`);
    const name = encodeURIComponent('sègments/☃');
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/${name}1`, {}, 'snow')).status).toBe(201);
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/${name}2`, {}, 'man')).status).toBe(201);
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/uni`, { 'X-Object-Manifest': `${c}/${name}` }, '')).status).toBe(201);
    expect((await lo.req('GET', `/v1/AUTH_test/${c}/uni`)).body.toString()).toBe('snowman');
  });

  it('reads listings page by page', async () => {
    const small = await startLoCluster({ constraints: 'container_listing_limit = 2' });
    try {
      const c = await small.container('dlo');
      for (const [i, b] of ['a', 'b', 'c', 'd', 'e'].entries()) await small.req('PUT', `/v1/AUTH_test/${c}/p/${i}`, {}, b);
      await small.req('PUT', `/v1/AUTH_test/${c}/m`, { 'X-Object-Manifest': `${c}/p/` }, '');
      const r = await small.req('GET', `/v1/AUTH_test/${c}/m`);
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('abcde');
      // More than one page: neither the length nor the ETag is known up front.
      expect(r.headers['content-length']).toBeUndefined();
      expect(r.headers.etag).toBe(md5(''));
      // A range ending before the first page's last byte is served, measured against that page.
      const ranged = await small.req('GET', `/v1/AUTH_test/${c}/m`, { Range: 'bytes=0-0' });
      expect(ranged.status).toBe(206);
      expect(ranged.headers['content-range']).toBe('bytes 0-0/2');
      expect(ranged.body.toString()).toBe('a');
      // Others are ignored (Swift compares the range's end, plus one, with that page's total).
      for (const range of ['bytes=1-1', 'bytes=3-4', 'bytes=-1']) {
        const whole = await small.req('GET', `/v1/AUTH_test/${c}/m`, { Range: range });
        expect(whole.status, range).toBe(200);
        expect(whole.body.toString()).toBe('abcde');
      }
    } finally {
      await small.stop();
    }
  }, 60_000);
});

describe('dlo errors', () => {
  it('refuses a malformed X-Object-Manifest on PUT', async () => {
    const c = await lo.container('dlo');
    for (const bad of ['nocontainer', `${c}/`, `/${c}/p`, `${c}//p`, `${c}/p?x`, `${c}/p&x`]) {
      const r = await lo.req('PUT', `/v1/AUTH_test/${c}/m`, { 'X-Object-Manifest': bad }, '');
      expect(r.status, bad).toBe(400);
      expect(r.body.toString()).toBe('X-Object-Manifest must be in the format container/prefix');
    }
  });

  it('is 409 when the first segment is gone and cuts the body when a later one is', async () => {
    const { c } = await dloObject(['aaaa', 'bbbb', 'cccc']);
    // Segment names come from the listing, so a missing segment needs a stale listing: delete
    // the object from the object servers only.
    const ring = lo.cluster.proxy.state.rings.object.get(0)!;
    const removeBehindListing = async (name: string) => {
      for (const r of await direct(ring, 'DELETE', ['AUTH_test', c, name], { 'X-Timestamp': directTs() })) expect(r.status).toBe(204);
    };
    await removeBehindListing('seg/01');
    const mid = await lo.req('GET', `/v1/AUTH_test/${c}/big`);
    expect(mid.status).toBe(200);
    expect(mid.headers['content-length']).toBe('12');
    expect(mid.body.toString()).toBe('aaaa');
    expect(mid.complete).toBe(false);
    await removeBehindListing('seg/00');
    const first = await lo.req('GET', `/v1/AUTH_test/${c}/big`);
    expect(first.status).toBe(409);
    expect(first.body.toString()).toContain('<h1>Conflict</h1>');
  });

  it('answers the listing error when the user cannot read the segment container', async () => {
    const { c } = await dloObject(['secret']);
    // test2 may read the manifest's container but not the segments' (a different one).
    const seg = await lo.container('dloseg');
    expect((await lo.req('PUT', `/v1/AUTH_test/${seg}/s/1`, {}, 'secret')).status).toBe(201);
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/other`, { 'X-Object-Manifest': `${seg}/s/` }, '')).status).toBe(201);
    expect((await lo.req('POST', `/v1/AUTH_test/${c}`, { 'X-Container-Read': 'test2:tester2' })).status).toBe(204);
    const denied = await lo.req('GET', `/v1/AUTH_test/${c}/other`, {}, undefined, lo.otherToken);
    expect(denied.status).toBe(403);
    expect(denied.body.toString()).not.toContain('secret');
    const head = await lo.req('HEAD', `/v1/AUTH_test/${c}/other`, {}, undefined, lo.otherToken);
    expect(head.status).toBe(403);
    // Its own container's segments it may read.
    const ok = await lo.req('GET', `/v1/AUTH_test/${c}/big`, {}, undefined, lo.otherToken);
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toBe('secret');
  });
});
