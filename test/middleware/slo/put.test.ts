/**
 * SLO manifest PUT through a whole cluster: segments checked by HEAD as the user, every problem
 * reported in Swift's bulk-style body, the manifest stored in Swift's form with its sysmeta,
 * limits, heartbeat answers, and the reserved X-Static-Large-Object header.
 */
import { describe, expect, it } from 'vitest';
import { direct } from '../../proxy/helpers';
import { loSuite, md5 } from '../large-object/helpers';

const lo = loSuite({ slo: 'max_manifest_segments = 4\nmax_manifest_size = 600\nyield_frequency = 1' });

const put = (path: string, manifest: unknown, headers: Record<string, string> = {}, query = 'multipart-manifest=put') =>
  lo.req('PUT', `${path}?${query}`, headers, typeof manifest === 'string' ? manifest : JSON.stringify(manifest));

describe('slo manifest PUT', () => {
  it('stores the manifest in Swift form with the SLO ETag, size and listing override', async () => {
    const c = await lo.container('slo');
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/a`, { 'Content-Type': 'text/x-a; charset=utf-8' }, 'aaaa')).status).toBe(201);
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/b`, {}, 'bbbbb')).status).toBe(201);
    const res = await put(`/v1/AUTH_test/${c}/m.txt`, [{ path: `${c}/a`, etag: md5('aaaa'), size_bytes: 4 }, { path: `/${c}/b`, range: '1-' }, { data: Buffer.from('XYZ').toString('base64') }]);
    const sloEtag = md5(md5('aaaa') + `${md5('bbbbb')}:1-4;` + md5('XYZ'));
    expect(res.status).toBe(201);
    expect(res.headers.etag).toBe(`"${sloEtag}"`);

    const manifest = await lo.req('GET', `/v1/AUTH_test/${c}/m.txt?multipart-manifest=get`);
    expect(manifest.headers['content-type']).toBe('application/json; charset=utf-8');
    const stored = JSON.parse(manifest.body.toString()) as Record<string, unknown>[];
    expect(stored).toEqual([
      { name: `/${c}/a`, bytes: 4, hash: md5('aaaa'), content_type: 'text/x-a', last_modified: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000$/) },
      { name: `/${c}/b`, bytes: 5, hash: md5('bbbbb'), content_type: 'application/octet-stream', last_modified: expect.any(String), range: '1-4' },
      { data: 'WFla' },
    ]);
    // Python's json.dumps of that list is what is stored, and its MD5 the manifest's ETag.
    expect(manifest.headers.etag).toBe(md5(manifest.body));
    expect(manifest.body.toString()).toMatch(/^\[\{"name": "\/.*", "bytes": 4, "hash": /);

    const [onDisk] = await direct(lo.cluster.proxy.state.rings.object.get(0)!, 'HEAD', ['AUTH_test', c, 'm.txt']);
    expect(onDisk!.headers['x-static-large-object']).toBe('True');
    expect(onDisk!.headers['x-object-sysmeta-slo-etag']).toBe(sloEtag);
    expect(onDisk!.headers['x-object-sysmeta-slo-size']).toBe('11');
    // No Content-Type given: guessed from the name, with swift_bytes for the listing.
    expect(onDisk!.headers['content-type']).toBe('text/plain;swift_bytes=11');

    const listing = JSON.parse((await lo.req('GET', `/v1/AUTH_test/${c}?format=json&prefix=m`)).body.toString()) as Record<string, unknown>[];
    expect(listing).toEqual([{ name: 'm.txt', bytes: 11, hash: md5(manifest.body), content_type: 'text/plain', last_modified: expect.any(String), slo_etag: `"${sloEtag}"` }]);
  });

  it('reports each segment problem in one 400 (text, JSON)', async () => {
    const c = await lo.container('slo');
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/a`, {}, 'aaaa')).status).toBe(201);
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/empty`, {}, '')).status).toBe(201);
    const manifest = [
      { path: `${c}/missing` },
      { path: `${c}/a`, etag: 'f'.repeat(32), size_bytes: 5 },
      { path: `${c}/empty` },
    ];
    const text = await put(`/v1/AUTH_test/${c}/m`, [...manifest, { path: `${c}/a`, range: '10-' }]);
    expect(text.status).toBe(400);
    expect(text.headers['content-type']).toBe('text/plain');
    expect(text.body.toString()).toBe(
      `Errors:\n${c}/missing, 404 Not Found\n${c}/a, Size Mismatch\n${c}/a, Etag Mismatch\n${c}/a, Unsatisfiable Range\n${c}/empty, Too small; each segment must be at least 1 byte.\n`,
    );
    const json = await put(`/v1/AUTH_test/${c}/m`, manifest, { Accept: 'application/json' });
    expect(json.status).toBe(400);
    expect(json.headers['content-type']).toBe('application/json');
    expect(JSON.parse(json.body.toString())).toEqual({ Errors: [[`${c}/missing`, '404 Not Found'], [`${c}/a`, 'Size Mismatch'], [`${c}/a`, 'Etag Mismatch']] });
    // A zero-byte last segment is allowed.
    expect((await put(`/v1/AUTH_test/${c}/m`, [{ path: `${c}/a` }, { path: `${c}/empty` }])).status).toBe(201);
    expect((await lo.req('GET', `/v1/AUTH_test/${c}/m`)).body.toString()).toBe('aaaa');
  });

  it('checks segments as the user: one it cannot read is a 403 problem', async () => {
    const c = await lo.container('slo');
    const theirs = await lo.container('sloother');
    expect((await lo.req('PUT', `/v1/AUTH_test/${theirs}/s`, {}, 'secret')).status).toBe(201);
    expect((await lo.req('POST', `/v1/AUTH_test/${c}`, { 'X-Container-Write': 'test2:tester2', 'X-Container-Read': 'test2:tester2' })).status).toBe(204);
    const res = await lo.req('PUT', `/v1/AUTH_test/${c}/m?multipart-manifest=put`, {}, JSON.stringify([{ path: `${theirs}/s` }]), lo.otherToken);
    expect(res.status).toBe(400);
    expect(res.body.toString()).toBe(`Errors:\n${theirs}/s, 403 Forbidden\n`);
  });

  it('refuses bad manifests with Swift bodies and limits', async () => {
    const c = await lo.container('slo');
    const m = `/v1/AUTH_test/${c}/m`;
    let r = await put(m, 'not json');
    expect([r.status, r.body.toString()]).toEqual([400, 'Manifest must be valid JSON.\n']);
    r = await put(m, [{ path: `${c}/m` }, { path: 'noslash' }]);
    expect([r.status, r.body.toString(), r.headers['content-type']]).toEqual([400, 'Index 0: manifest must not include itself as a segment\nIndex 1: path does not refer to an object. Path must be of the form /container/object.\n', 'text/plain']);
    r = await put(m, [{ path: `${c}/a` }, { path: `${c}/b` }, { data: 'WFla' }, { path: `${c}/c` }, { path: `${c}/d` }, { path: `${c}/e` }]);
    expect([r.status, r.body.toString()]).toEqual([413, 'Number of object-backed segments must be <= 4']);
    r = await put(m, 'x'.repeat(601));
    expect([r.status, r.body.toString()]).toEqual([413, 'Manifest File > 600 bytes']);
    r = await put(m, [{ data: 'WFla' }]);
    expect([r.status, r.body.toString()]).toEqual([400, 'Inline data segments require at least one object-backed segment.\n']);
    // Only this middleware sets X-Static-Large-Object.
    r = await lo.req('PUT', m, { 'X-Static-Large-Object': 'True' }, '[]');
    expect([r.status, r.body.toString()]).toEqual([400, 'X-Static-Large-Object is a reserved header. To create a static large object add query param multipart-manifest=put.']);
    r = await lo.req('POST', m, { 'X-Static-Large-Object': 'True' });
    expect(r.status).toBe(400);
    // A client ETag must be the SLO ETag.
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/a`, {}, 'aaaa')).status).toBe(201);
    r = await put(m, [{ path: `${c}/a` }], { Etag: 'nope' });
    expect(r.status).toBe(422);
    r = await put(m, [{ path: `${c}/a` }], { Etag: `"${md5(md5('aaaa'))}"` });
    expect(r.status).toBe(201);
  });

  it('answers 202 at once with ?heartbeat=on and puts the result in the body', async () => {
    const c = await lo.container('slo');
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/a`, {}, 'aaaa')).status).toBe(201);
    const ok = await put(`/v1/AUTH_test/${c}/m`, [{ path: `${c}/a` }], { Accept: 'application/json' }, 'multipart-manifest=put&heartbeat=on');
    expect(ok.status).toBe(202);
    expect(ok.headers['content-type']).toBe('application/json');
    const text = ok.body.toString();
    expect(text.startsWith(' \r\n\r\n')).toBe(true);
    const result = JSON.parse(text.trim()) as Record<string, unknown>;
    expect(result['Response Status']).toBe('201 Created');
    expect(result.Etag).toBe(`"${md5(md5('aaaa'))}"`);
    expect(result['Last Modified']).toMatch(/GMT$/);
    expect(result.Errors).toEqual([]);
    const bad = await put(`/v1/AUTH_test/${c}/m`, [{ path: `${c}/nope` }], {}, 'multipart-manifest=put&heartbeat=on');
    expect(bad.status).toBe(202);
    expect(bad.body.toString()).toBe(
      ' \r\n\r\nResponse Body: Bad Request\nThe server could not comply with the request since it is either malformed or otherwise incorrect.\nResponse Status: 400 Bad Request\nErrors:\n' + `${c}/nope, 404 Not Found\n`,
    );
  });

  it('reports /info sections as Swift', async () => {
    const info = JSON.parse((await lo.req('GET', '/info')).body.toString()) as Record<string, unknown>;
    expect(info.slo).toEqual({ max_manifest_segments: 4, max_manifest_size: 600, yield_frequency: 1, min_segment_size: 1, allow_async_delete: false });
    expect(info.dlo).toBeUndefined();
  });
});
