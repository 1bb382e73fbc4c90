/**
 * Who may do what with versions (Swift 2.30 behaviour, checked against a real Swift 2.30.1
 * proxy with TempAuth): a user with the container's read ACL lists versions and reads the
 * current object, but reads of one version go to the hidden container, whose ACLs are empty
 * (403); writers still need the write ACL. Clients can neither name the reserved namespace
 * nor forge the sysmeta that marks a versions link.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { hiddenContainer, hiddenListing, useOv } from './helpers';

const ov = useOv();
let reader: string;
let other: string;
beforeAll(async () => {
  reader = await ov.token('test:tester3');
  other = await ov.token('test2:tester2');
}, 60_000);

describe('ACLs', () => {
  it('a read-ACL user lists versions and reads the current object, not one version by id', async () => {
    const c = await ov.container();
    expect((await ov.req('POST', `/v1/AUTH_test/${c}`, { 'X-Container-Read': 'test:tester3' })).status).toBe(204);
    const v1 = (await ov.req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'one')).headers['x-object-version-id']!;
    const v2 = (await ov.req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'two')).headers['x-object-version-id']!;
    const list = await ov.req('GET', `/v1/AUTH_test/${c}?versions`, {}, undefined, reader);
    expect(list.status).toBe(200);
    expect((JSON.parse(list.body.toString()) as { version_id: string }[]).map((e) => e.version_id)).toEqual([v2, v1]);
    const current = await ov.req('GET', `/v1/AUTH_test/${c}/o`, {}, undefined, reader);
    expect([current.status, current.body.toString(), current.headers['x-object-version-id']]).toEqual([200, 'two', v2]);
    expect((await ov.req('GET', `/v1/AUTH_test/${c}/o?version-id=${v1}`, {}, undefined, reader)).status).toBe(403);
    expect((await ov.req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'three', reader)).status).toBe(403);
    expect((await ov.req('DELETE', `/v1/AUTH_test/${c}/o`, {}, undefined, reader)).status).toBe(403);
    const delVersion = await ov.req('DELETE', `/v1/AUTH_test/${c}/o?version-id=${v1}`, {}, undefined, reader);
    expect([delVersion.status, delVersion.headers['x-object-current-version-id']]).toEqual([403, v2]);
    // Nothing changed: no version, no marker.
    expect((await hiddenListing(ov, c)).length).toBe(2);
  });

  it('someone else may not enable versioning, and no versions container is made for them', async () => {
    const c = await ov.container(false);
    expect((await ov.req('POST', `/v1/AUTH_test/${c}`, { 'X-Versions-Enabled': 'true' }, undefined, other)).status).toBe(403);
    expect((await hiddenContainer(ov, c))[0]!.status).toBe(404);
    expect((await ov.req('HEAD', `/v1/AUTH_test/${c}`)).headers['x-versions-enabled']).toBeUndefined();
  });

  it('someone else deleting a versioned container is denied before versions are looked at', async () => {
    const c = await ov.container();
    await ov.req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'x');
    // sluice: 403 (Swift answers 409 here, telling a stranger that versions exist).
    expect((await ov.req('DELETE', `/v1/AUTH_test/${c}`, {}, undefined, other)).status).toBe(403);
    // An empty versions container is not removed for them either.
    const empty = await ov.container();
    expect((await ov.req('DELETE', `/v1/AUTH_test/${empty}`, {}, undefined, other)).status).toBe(403);
    expect((await hiddenContainer(ov, empty))[0]!.status).toBe(204);
  });
});

describe('the reserved namespace stays internal', () => {
  it('clients cannot name versions containers, even with X-Backend-Allow-Reserved-Names', async () => {
    const c = await ov.container();
    const attempts: Record<string, string>[] = [{}, { 'X-Backend-Allow-Reserved-Names': 'true' }, { 'X-Allow-Reserved-Names': 'true' }];
    for (const headers of attempts) {
      const res = await ov.req('GET', `/v1/AUTH_test/%00versions%00${c}`, headers);
      expect([res.status, res.body.toString()]).toEqual([412, 'Invalid UTF8 or contains NULL']);
    }
  });

  it('forged versions-symlink sysmeta is dropped: the PUT is versioned as any other', async () => {
    const c = await ov.container();
    await ov.req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'first');
    const forged = await ov.req('PUT', `/v1/AUTH_test/${c}/o`, { 'X-Object-Sysmeta-Versions-Symlink': 'true' }, 'second');
    expect(forged.status).toBe(201);
    expect((await ov.versions(c)).map((e) => e.is_latest)).toEqual([true, false]);
    expect((await ov.req('GET', `/v1/AUTH_test/${c}/o`)).body.toString()).toBe('second');
  });
});
