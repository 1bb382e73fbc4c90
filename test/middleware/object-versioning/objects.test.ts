/**
 * Objects in a versioned container (Swift 2.30 object_versioning.py ObjectContext; the
 * answers were compared with a real Swift 2.30.1 proxy): every PUT is a version the object
 * links to, DELETE leaves a delete marker, `?version-id=` reads, deletes or restores one
 * version, POST updates the current version's metadata, and with versioning suspended new
 * data is the "null" version.
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { call } from '../../proxy/helpers';
import { hiddenListing, useOv } from './helpers';

const MARKER = 'application/x-deleted;swift_versions_deleted=1';

const ov = useOv();

async function putVersions(c: string, name: string, bodies: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, body] of bodies.entries()) {
    const res = await ov.req('PUT', `/v1/AUTH_test/${c}/${name}`, { 'Content-Type': `text/v${i}` }, body);
    expect(res.status).toBe(201);
    ids.push(res.headers['x-object-version-id']!);
  }
  return ids;
}

describe('PUT, GET and HEAD', () => {
  it('each PUT answers its version id and ETag; GET serves the newest and says which', async () => {
    const c = await ov.container();
    const put = await ov.req('PUT', `/v1/AUTH_test/${c}/o`, { 'Content-Type': 'text/x1', 'X-Object-Meta-Color': 'red' }, 'v1');
    expect([put.status, put.headers.etag]).toEqual([201, '6654c734ccab8f440ff0825eb443dc7f']);
    expect(put.headers['x-object-version-id']).toMatch(/^\d{10}\.\d{5}$/);
    const [v2] = await putVersions(c, 'o', ['v22']);
    const get = await ov.req('GET', `/v1/AUTH_test/${c}/o`);
    expect([get.status, get.body.toString(), get.headers['x-object-version-id'], get.headers['content-location'], get.headers['content-type']]).toEqual([
      200,
      'v22',
      v2,
      `/v1/AUTH_test/${c}/o?version-id=${v2}`,
      'text/v0',
    ]);
    const head = await ov.req('HEAD', `/v1/AUTH_test/${c}/o`);
    expect([head.status, head.headers['x-object-version-id'], head.headers['content-length']]).toEqual([200, v2, '3']);
    // The link itself.
    const link = await ov.req('GET', `/v1/AUTH_test/${c}/o?symlink=get`);
    expect([link.status, link.headers['x-symlink-target'], link.headers.etag, link.headers['x-object-version-id']]).toEqual([
      200,
      `${c}/o?version-id=${v2}`,
      'd41d8cd98f00b204e9800998ecf8427e',
      v2,
    ]);
    // Each version is stored once, under its inverted timestamp, in the hidden container.
    const stored = await hiddenListing(ov, c);
    expect(stored.map((e) => [e.name.split('\0')[1], e.bytes])).toEqual([
      ['o', 3],
      ['o', 2],
    ]);
  });

  it('GET/HEAD ?version-id= read that version; unknown ids are 404; ids Swift cannot parse are 400', async () => {
    const c = await ov.container();
    const [v1, v2] = await putVersions(c, 'o', ['first', 'second!']);
    const old = await ov.req('GET', `/v1/AUTH_test/${c}/o?version-id=${v1}`);
    expect([old.status, old.body.toString(), old.headers['x-object-version-id'], old.headers['content-type']]).toEqual([200, 'first', v1, 'text/v0']);
    const head = await ov.req('HEAD', `/v1/AUTH_test/${c}/o?version-id=${v2}`);
    expect([head.status, head.headers['content-length'], head.headers['x-object-version-id']]).toEqual([200, '7', v2]);
    expect((await ov.req('GET', `/v1/AUTH_test/${c}/o?version-id=1.5`)).status).toBe(404);
    const bad = await ov.req('GET', `/v1/AUTH_test/${c}/o?version-id=abc`);
    expect([bad.status, bad.body.toString()]).toEqual([400, 'Invalid version parameter']);
    expect((await ov.req('GET', `/v1/AUTH_test/${c}/o?version-id=-1`)).status).toBe(400);
    // sluice: Swift answers 500 for an id with an offset (it cannot invert it); a client error here.
    expect((await ov.req('GET', `/v1/AUTH_test/${c}/o?version-id=1796000000.00000_0000000000000001`)).status).toBe(400);
    // The current object is a real version, so there is no "null" one.
    expect((await ov.req('GET', `/v1/AUTH_test/${c}/o?version-id=null`)).status).toBe(404);
    const post = await ov.req('POST', `/v1/AUTH_test/${c}/o?version-id=${v1}`, { 'X-Object-Meta-A': 'b' });
    expect([post.status, post.body.toString()]).toEqual([400, 'POST to a specific version is not allowed']);
  });

  it('a chunked PUT is a version of the size read', async () => {
    const c = await ov.container();
    // A streamed body goes chunked: no Content-Length to take the size from.
    const res = await call(ov.cluster.url, 'PUT', `/v1/AUTH_test/${c}/chunked`, { 'X-Auth-Token': await ov.token('test:tester'), 'Content-Type': 'text/c' }, { body: Readable.from([Buffer.alloc(30_000, 'x'), Buffer.alloc(40_000, 'y')]) });
    expect(res.status).toBe(201);
    const listing = JSON.parse((await ov.req('GET', `/v1/AUTH_test/${c}?format=json`)).body.toString()) as { bytes: number }[];
    expect(listing.map((e) => e.bytes)).toEqual([70_000]);
    expect((await ov.req('HEAD', `/v1/AUTH_test/${c}/chunked`)).headers['content-length']).toBe('70000');
  });

  it('a client that goes away mid-body leaves neither a version nor a link', async () => {
    const c = await ov.container();
    const token = await ov.token('test:tester');
    const { port } = new URL(ov.cluster.url);
    await new Promise<void>((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port: Number(port) }, () => {
        sock.write(`PUT /v1/AUTH_test/${c}/cut HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${token}\r\nContent-Length: 100000\r\n\r\n${'z'.repeat(1000)}`);
        setTimeout(() => sock.destroy(), 200);
      });
      sock.on('close', () => resolve());
      sock.on('error', reject);
    });
    // The proxy gives up on the body and answers others meanwhile.
    let stored: unknown[] = [];
    for (let i = 0; i < 10; i++) {
      stored = await hiddenListing(ov, c);
      expect((await ov.req('HEAD', `/v1/AUTH_test/${c}/cut`)).status).toBe(404);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(stored).toEqual([]);
    expect(await ov.versions(c)).toEqual([]);
  });

  it('without a Content-Type the type is guessed from the version name, as Swift does', async () => {
    const c = await ov.container();
    await ov.req('PUT', `/v1/AUTH_test/${c}/photo.jpg`, {}, 'jpg');
    expect((await ov.req('HEAD', `/v1/AUTH_test/${c}/photo.jpg`)).headers['content-type']).toBe('application/octet-stream');
  });

  it('an object put before versioning was enabled becomes a version on the next PUT', async () => {
    const c = await ov.container(false);
    await ov.req('PUT', `/v1/AUTH_test/${c}/pre`, { 'Content-Type': 'text/pre' }, 'before');
    const nullRead = await ov.req('GET', `/v1/AUTH_test/${c}/pre?version-id=null`);
    expect([nullRead.status, nullRead.body.toString(), nullRead.headers['x-object-version-id']]).toEqual([200, 'before', 'null']);
    expect((await ov.req('POST', `/v1/AUTH_test/${c}`, { 'X-Versions-Enabled': 'true' })).status).toBe(204);
    const [v] = await putVersions(c, 'pre', ['after']);
    const list = await ov.versions(c);
    expect(list.map((e) => [e.content_type, e.is_latest, e.version_id === v])).toEqual([
      ['text/v0', true, true],
      ['text/pre', false, false],
    ]);
    const first = await ov.req('GET', `/v1/AUTH_test/${c}/pre?version-id=${list[1]!.version_id}`);
    expect(first.body.toString()).toBe('before');
  });
});

describe('DELETE and delete markers', () => {
  it('DELETE writes a delete marker: the object is gone, its versions stay', async () => {
    const c = await ov.container();
    const [v1] = await putVersions(c, 'o', ['one']);
    const del = await ov.req('DELETE', `/v1/AUTH_test/${c}/o`);
    expect(del.status).toBe(204);
    const marker = del.headers['x-object-version-id']!;
    expect(Number(marker)).toBeGreaterThan(Number(v1));
    const gone = await ov.req('GET', `/v1/AUTH_test/${c}/o`);
    expect([gone.status, gone.headers['x-object-version-id']]).toEqual([404, 'null']);
    expect((await ov.versions(c)).map((e) => [e.version_id, e.content_type, e.is_latest, e.bytes])).toEqual([
      [marker, MARKER, true, 0],
      [v1, 'text/v0', false, 3],
    ]);
    // Reading the marker by id is a 404 that says what it is.
    const read = await ov.req('GET', `/v1/AUTH_test/${c}/o?version-id=${marker}`);
    expect([read.status, read.headers['x-object-version-id'], read.headers['content-type']]).toEqual([404, marker, MARKER]);
    // DELETE of something never there still leaves a marker, and answers 404.
    const never = await ov.req('DELETE', `/v1/AUTH_test/${c}/never`);
    expect([never.status, typeof never.headers['x-object-version-id']]).toEqual([404, 'string']);
    expect((await ov.versions(c, '&prefix=never')).map((e) => e.content_type)).toEqual([MARKER]);
  });

  it('DELETE ?version-id of an old version leaves the current one; of the current one removes the link too', async () => {
    const c = await ov.container();
    const [v1, v2, v3] = await putVersions(c, 'o', ['a', 'bb', 'ccc']);
    const old = await ov.req('DELETE', `/v1/AUTH_test/${c}/o?version-id=${v1}`);
    expect([old.status, old.headers['x-object-version-id'], old.headers['x-object-current-version-id']]).toEqual([204, v1, v3]);
    expect((await ov.req('GET', `/v1/AUTH_test/${c}/o`)).body.toString()).toBe('ccc');
    const current = await ov.req('DELETE', `/v1/AUTH_test/${c}/o?version-id=${v3}`);
    expect([current.status, current.headers['x-object-version-id'], current.headers['x-object-current-version-id']]).toEqual([204, v3, 'null']);
    // No marker was written: the object is simply gone, v2 remains.
    expect((await ov.req('GET', `/v1/AUTH_test/${c}/o`)).status).toBe(404);
    expect((await ov.versions(c)).map((e) => [e.version_id, e.is_latest])).toEqual([[v2, false]]);
  });

  it('deleting the delete marker by id brings nothing back by itself; PUT ?version-id restores', async () => {
    const c = await ov.container();
    const [v1] = await putVersions(c, 'o', ['keep']);
    const marker = (await ov.req('DELETE', `/v1/AUTH_test/${c}/o`)).headers['x-object-version-id']!;
    expect((await ov.req('DELETE', `/v1/AUTH_test/${c}/o?version-id=${marker}`)).status).toBe(204);
    expect((await ov.req('GET', `/v1/AUTH_test/${c}/o`)).status).toBe(404);
    const restore = await ov.req('PUT', `/v1/AUTH_test/${c}/o?version-id=${v1}`);
    expect([restore.status, restore.headers['x-object-version-id'], restore.headers.etag]).toEqual([201, v1, createHash('md5').update('keep').digest('hex')]);
    const get = await ov.req('GET', `/v1/AUTH_test/${c}/o`);
    expect([get.status, get.body.toString(), get.headers['x-object-version-id']]).toEqual([200, 'keep', v1]);
  });

  it('PUT ?version-id needs an empty body and an existing version', async () => {
    const c = await ov.container();
    const [v1] = await putVersions(c, 'o', ['x']);
    const body = await ov.req('PUT', `/v1/AUTH_test/${c}/o?version-id=${v1}`, {}, 'data');
    expect([body.status, body.body.toString(), body.headers['content-type']]).toEqual([400, 'PUT version-id requests require a zero byte body', 'text/plain']);
    const missing = await ov.req('PUT', `/v1/AUTH_test/${c}/o?version-id=1796000000.00000`);
    expect([missing.status, missing.body.toString()]).toEqual([404, 'The specified version does not exist']);
  });
});

describe('restoring by copy, POST', () => {
  it('COPY of an old version makes a new current version with its data', async () => {
    const c = await ov.container();
    const [v1, v2] = await putVersions(c, 'o', ['old data', 'new']);
    const copy = await ov.req('COPY', `/v1/AUTH_test/${c}/o?version-id=${v1}`, { Destination: `${c}/o` });
    expect([copy.status, copy.headers['x-copied-from-version-id']]).toEqual([201, v1]);
    const v3 = copy.headers['x-object-version-id']!;
    expect([v1, v2]).not.toContain(v3);
    const get = await ov.req('GET', `/v1/AUTH_test/${c}/o`);
    expect([get.body.toString(), get.headers['x-object-version-id'], get.headers['content-type']]).toEqual(['old data', v3, 'text/v0']);
    expect((await ov.versions(c)).map((e) => e.version_id)).toEqual([v3, v2, v1]);
  });

  it('POST to the object updates the current version, and makes no new one', async () => {
    const c = await ov.container();
    const [v1, v2] = await putVersions(c, 'o', ['a', 'b']);
    expect((await ov.req('POST', `/v1/AUTH_test/${c}/o`, { 'X-Object-Meta-Color': 'green' })).status).toBe(202);
    expect((await ov.req('HEAD', `/v1/AUTH_test/${c}/o`)).headers['x-object-meta-color']).toBe('green');
    expect((await ov.req('HEAD', `/v1/AUTH_test/${c}/o?version-id=${v2}`)).headers['x-object-meta-color']).toBe('green');
    expect((await ov.req('HEAD', `/v1/AUTH_test/${c}/o?version-id=${v1}`)).headers['x-object-meta-color']).toBeUndefined();
    expect((await ov.versions(c)).length).toBe(2);
  });
});

describe('versioning suspended', () => {
  it('new data is the null version, replaced in place; old versions stay reachable', async () => {
    const c = await ov.container();
    const [v1] = await putVersions(c, 'o', ['versioned']);
    expect((await ov.req('POST', `/v1/AUTH_test/${c}`, { 'X-Versions-Enabled': 'false' })).status).toBe(204);
    const plain = await ov.req('PUT', `/v1/AUTH_test/${c}/o`, { 'Content-Type': 'text/plain' }, 'null one');
    expect([plain.status, plain.headers['x-object-version-id']]).toEqual([201, undefined]);
    await ov.req('PUT', `/v1/AUTH_test/${c}/o`, { 'Content-Type': 'text/plain' }, 'null two');
    const get = await ov.req('GET', `/v1/AUTH_test/${c}/o`);
    expect([get.body.toString(), get.headers['x-object-version-id']]).toEqual(['null two', 'null']);
    expect((await ov.versions(c)).map((e) => [e.version_id, e.is_latest])).toEqual([
      ['null', true],
      [v1, false],
    ]);
    expect((await ov.req('GET', `/v1/AUTH_test/${c}/o?version-id=${v1}`)).body.toString()).toBe('versioned');
    // DELETE with versioning suspended removes the object and writes no marker.
    expect((await ov.req('DELETE', `/v1/AUTH_test/${c}/o`)).status).toBe(204);
    expect((await ov.versions(c)).map((e) => e.version_id)).toEqual([v1]);
  });
});

describe('large objects', () => {
  it('an SLO manifest PUT is a version whose link has the whole size; GET streams the segments', async () => {
    const segments = await ov.container(false);
    const parts = ['a'.repeat(1024 * 1024), 'b'.repeat(10)];
    const manifest = [];
    for (const [i, body] of parts.entries()) {
      const put = await ov.req('PUT', `/v1/AUTH_test/${segments}/s${i}`, {}, body);
      manifest.push({ path: `/${segments}/s${i}`, etag: put.headers.etag, size_bytes: body.length });
    }
    const c = await ov.container();
    const put = await ov.req('PUT', `/v1/AUTH_test/${c}/big?multipart-manifest=put`, { 'Content-Type': 'text/big' }, JSON.stringify(manifest));
    expect(put.status).toBe(201);
    const id = put.headers['x-object-version-id']!;
    const get = await ov.req('GET', `/v1/AUTH_test/${c}/big`);
    expect([get.status, get.body.length, get.headers['x-object-version-id'], get.headers['x-static-large-object']]).toEqual([200, 1024 * 1024 + 10, id, 'True']);
    const listing = JSON.parse((await ov.req('GET', `/v1/AUTH_test/${c}?format=json`)).body.toString()) as { bytes: number; content_type: string }[];
    expect(listing.map((e) => [e.bytes, e.content_type])).toEqual([[1024 * 1024 + 10, 'text/big']]);
    expect((await ov.versions(c)).map((e) => [e.version_id, e.bytes])).toEqual([[id, 1024 * 1024 + 10]]);
  });
});
