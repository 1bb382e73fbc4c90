/**
 * Object versioning on containers (Swift 2.30 object_versioning.py ContainerContext, answers
 * checked against a real Swift 2.30.1 proxy with allow_object_versioning): enabling creates
 * the hidden `\0versions\0<container>` container, X-Versions-Enabled is shown as Swift's
 * Python bool, the legacy modes exclude it, HEAD counts the versions' bytes, and a container
 * keeps its versions until they are all deleted.
 */
import { describe, expect, it } from 'vitest';
import { hiddenContainer, hiddenListing, useOv } from './helpers';

const ov = useOv();

describe('enabling and suspending', () => {
  it('PUT with X-Versions-Enabled creates the hidden versions container, in the same policy', async () => {
    const c = await ov.container();
    const head = await ov.req('HEAD', `/v1/AUTH_test/${c}`);
    expect([head.status, head.headers['x-versions-enabled']]).toEqual([204, 'True']);
    // Sysmeta never reaches the client.
    expect(Object.keys(head.headers).filter((k) => k.includes('sysmeta'))).toEqual([]);
    for (const r of await hiddenContainer(ov, c)) {
      expect(r.status).toBe(204);
      expect(r.headers['x-backend-storage-policy-index']).toBe('0');
    }
    const [primary] = await hiddenContainer(ov, c);
    expect(primary!.status).toBe(204);
  });

  it('POST turns it off and on again; the flag is kept as Python writes a bool', async () => {
    const c = await ov.container(false);
    expect((await ov.req('HEAD', `/v1/AUTH_test/${c}`)).headers['x-versions-enabled']).toBeUndefined();
    expect((await hiddenContainer(ov, c))[0]!.status).toBe(404);
    expect((await ov.req('POST', `/v1/AUTH_test/${c}`, { 'X-Versions-Enabled': 'yes' })).status).toBe(204);
    expect((await ov.req('HEAD', `/v1/AUTH_test/${c}`)).headers['x-versions-enabled']).toBe('True');
    expect((await hiddenContainer(ov, c))[0]!.status).toBe(204);
    expect((await ov.req('POST', `/v1/AUTH_test/${c}`, { 'X-Versions-Enabled': 'false' })).status).toBe(204);
    expect((await ov.req('HEAD', `/v1/AUTH_test/${c}`)).headers['x-versions-enabled']).toBe('False');
    // Suspending keeps the versions container (and the versions in it).
    expect((await hiddenContainer(ov, c))[0]!.status).toBe(204);
  });

  it('PUT with X-Versions-Enabled: false records the flag without a versions container', async () => {
    const c = `${await ov.container(false)}-off`;
    expect((await ov.req('PUT', `/v1/AUTH_test/${c}`, { 'X-Versions-Enabled': 'false' })).status).toBe(201);
    expect((await ov.req('HEAD', `/v1/AUTH_test/${c}`)).headers['x-versions-enabled']).toBe('False');
    expect((await hiddenContainer(ov, c))[0]!.status).toBe(404);
  });

  it('POST to a missing container is 404 and leaves no versions container behind', async () => {
    const c = `${await ov.container(false)}-missing`;
    expect((await ov.req('POST', `/v1/AUTH_test/${c}`, { 'X-Versions-Enabled': 'true' })).status).toBe(404);
    expect((await hiddenContainer(ov, c))[0]!.status).toBe(404);
  });

  it('a container with legacy versioning cannot enable it (400, Swift body)', async () => {
    const archive = await ov.container(false);
    const c = `${archive}-legacy`;
    expect((await ov.req('PUT', `/v1/AUTH_test/${c}`, { 'X-Versions-Location': archive })).status).toBe(201);
    const res = await ov.req('POST', `/v1/AUTH_test/${c}`, { 'X-Versions-Enabled': 'true' });
    expect([res.status, res.body.toString(), res.headers['content-type']]).toEqual([
      400,
      'Cannot enable object versioning on a container that is already using the legacy versioned writes feature.',
      'text/html; charset=UTF-8',
    ]);
    expect((await hiddenContainer(ov, c))[0]!.status).toBe(404);
  });

  it('a legacy location set later is taken, and then rules versioning changes out (as in Swift)', async () => {
    const c = await ov.container();
    const archive = `${c}-archive`;
    expect((await ov.req('PUT', `/v1/AUTH_test/${archive}`)).status).toBe(201);
    expect((await ov.req('POST', `/v1/AUTH_test/${c}`, { 'X-Versions-Location': archive })).status).toBe(204);
    const head = await ov.req('HEAD', `/v1/AUTH_test/${c}`);
    expect([head.headers['x-versions-location'], head.headers['x-versions-enabled']]).toEqual([archive, 'True']);
    const res = await ov.req('POST', `/v1/AUTH_test/${c}`, { 'X-Versions-Enabled': 'false' });
    expect([res.status, res.body.toString()]).toEqual([400, 'Cannot enable object versioning on a container that is already using the legacy versioned writes feature.']);
  });
});

describe('counts', () => {
  it('HEAD and GET count the versions in X-Container-Bytes-Used, not in the object count', async () => {
    const c = await ov.container();
    await ov.req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'one');
    await ov.req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'three');
    const head = await ov.req('HEAD', `/v1/AUTH_test/${c}`);
    expect([head.headers['x-container-object-count'], head.headers['x-container-bytes-used']]).toEqual(['1', '8']);
    const get = await ov.req('GET', `/v1/AUTH_test/${c}?format=json`);
    expect([get.headers['x-container-object-count'], get.headers['x-container-bytes-used']]).toEqual(['1', '8']);
  });

  it('account listings hide versions containers but count their bytes; HEAD counts them as containers', async () => {
    const c = await ov.container();
    await ov.req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'abcd');
    await ov.req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'ef');
    // The account learns of the containers' bytes when their servers report them.
    let entries: { name: string; count: number; bytes: number }[] = [];
    for (let i = 0; i < 100; i++) {
      const list = await ov.req('GET', `/v1/AUTH_test?format=json&prefix=${c}`);
      expect(list.status).toBe(200);
      entries = JSON.parse(list.body.toString()) as typeof entries;
      if (entries[0]?.bytes === 6 && entries[0]?.count === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(entries.map((e) => [e.name, e.count, e.bytes])).toEqual([[c, 1, 6]]);
    const plain = await ov.req('GET', `/v1/AUTH_test?prefix=${c}`);
    expect(plain.body.toString()).toBe(`${c}\n`);
    const xml = await ov.req('GET', `/v1/AUTH_test?format=xml&prefix=${c}`);
    expect(xml.body.toString()).toContain(`<name>${c}</name>`);
    expect(xml.body.toString()).not.toContain('versions');
    // The whole account: every container but the hidden ones listed, all of them counted.
    const all = await ov.req('GET', '/v1/AUTH_test?format=json');
    const names = (JSON.parse(all.body.toString()) as { name: string }[]).map((e) => e.name);
    expect(names.some((n) => n.includes('\0'))).toBe(false);
    expect(Number(all.headers['x-account-container-count'])).toBeGreaterThan(names.length);
  });
});

describe('deleting a versioned container', () => {
  it('is refused (409) while versions remain, then removes the versions container too', async () => {
    const c = await ov.container();
    const put = await ov.req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'data');
    const id = put.headers['x-object-version-id']!;
    expect((await ov.req('DELETE', `/v1/AUTH_test/${c}/o`)).status).toBe(204);
    const refused = await ov.req('DELETE', `/v1/AUTH_test/${c}`);
    expect([refused.status, refused.body.toString()]).toEqual([409, 'Delete all versions before deleting container.']);
    const marker = (await ov.versions(c)).find((e) => e.is_latest)!.version_id;
    for (const v of [id, marker]) expect((await ov.req('DELETE', `/v1/AUTH_test/${c}/o?version-id=${v}`)).status).toBe(204);
    expect(await hiddenListing(ov, c)).toEqual([]);
    expect((await ov.req('DELETE', `/v1/AUTH_test/${c}`)).status).toBe(204);
    expect((await ov.req('HEAD', `/v1/AUTH_test/${c}`)).status).toBe(404);
    const gone = await hiddenContainer(ov, c);
    expect(gone.length).toBeGreaterThan(0);
    expect(gone.every((r) => r.status === 404)).toBe(true);
  });
});
