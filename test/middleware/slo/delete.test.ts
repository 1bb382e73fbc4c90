/**
 * SLO `DELETE ?multipart-manifest=delete` through a whole cluster: segments (nested manifests
 * expanded) and then the manifest are deleted as the user, with bulk delete's streamed result.
 */
import { describe, expect, it } from 'vitest';
import { loSuite } from '../large-object/helpers';

const lo = loSuite();

const names = async (c: string) => (await lo.req('GET', `/v1/AUTH_test/${c}`)).body.toString().split('\n').filter(Boolean);

describe('slo multipart-manifest=delete', () => {
  it('deletes the segments, nested manifests and the manifest', async () => {
    const c = await lo.container('slo');
    const segs = await lo.container('slosegs');
    for (const n of ['a', 'b', 'ü']) expect((await lo.req('PUT', `/v1/AUTH_test/${segs}/${encodeURIComponent(n)}`, {}, `${n}${n}`)).status).toBe(201);
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/inner?multipart-manifest=put`, {}, JSON.stringify([{ path: `${segs}/a` }, { path: `${segs}/ü` }]))).status).toBe(201);
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/m?multipart-manifest=put`, {}, JSON.stringify([{ path: `${c}/inner` }, { data: 'WFla' }, { path: `${segs}/b` }]))).status).toBe(201);
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/keep`, {}, 'k')).status).toBe(201);
    const res = await lo.req('DELETE', `/v1/AUTH_test/${c}/m?multipart-manifest=delete`, { Accept: 'application/json' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body.toString())).toEqual({ 'Response Status': '200 OK', 'Response Body': '', 'Number Deleted': 5, 'Number Not Found': 0, Errors: [] });
    expect(await names(segs)).toEqual([]);
    expect(await names(c)).toEqual(['keep']);
  });

  it('reports a missing manifest, a plain object and an unreadable one as bulk delete does', async () => {
    const c = await lo.container('slo');
    const gone = await lo.req('DELETE', `/v1/AUTH_test/${c}/nothing?multipart-manifest=delete`);
    expect(gone.status).toBe(200);
    expect(gone.headers['content-type']).toBe('text/plain');
    expect(gone.body.toString()).toBe('Number Deleted: 0\nNumber Not Found: 1\nResponse Body: \nResponse Status: 200 OK\nErrors:\n');
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/plain`, {}, 'p')).status).toBe(201);
    const plain = await lo.req('DELETE', `/v1/AUTH_test/${c}/plain?multipart-manifest=delete`);
    expect(plain.body.toString()).toBe(`Number Deleted: 0\nNumber Not Found: 0\nResponse Body: \nResponse Status: 400 Bad Request\nErrors:\n/${c}/plain, Not an SLO manifest\n`);
    expect(await names(c)).toEqual(['plain']);
    // A user who may not read the container: the manifest GET is refused.
    const denied = await lo.req('DELETE', `/v1/AUTH_test/${c}/plain?multipart-manifest=delete`, {}, undefined, lo.otherToken);
    expect(denied.body.toString()).toContain('Response Status: 400 Bad Request');
    expect(denied.body.toString()).toContain(`/${c}/plain, Unable to load SLO manifest or segment.`);
    expect(await names(c)).toEqual(['plain']);
  });
});
