/**
 * SLO GET and HEAD through a whole cluster: the segments streamed in order, Swift's ETag and
 * length, ranges across segment boundaries (one, several, suffix, unsatisfiable), conditionals,
 * nested manifests and loops of them, and Swift's answers when a segment is missing, changed
 * or not readable by the user, before or after the first byte.
 */
import { describe, expect, it } from 'vitest';
import { direct, directTs } from '../../proxy/helpers';
import { loSuite, md5 } from '../large-object/helpers';

const lo = loSuite();

/** Objects `c/<name>` with the given bodies and a manifest `c/m` over them (path segments). */
async function slo(parts: Record<string, string>, extra: object[] = []): Promise<string> {
  const c = await lo.container('slo');
  for (const [name, body] of Object.entries(parts)) expect((await lo.req('PUT', `/v1/AUTH_test/${c}/${encodeURIComponent(name)}`, {}, body)).status).toBe(201);
  const manifest = [...Object.keys(parts).map((name) => ({ path: `${c}/${name}` })), ...extra];
  expect((await lo.req('PUT', `/v1/AUTH_test/${c}/m?multipart-manifest=put`, { 'Content-Type': 'text/x-lo' }, JSON.stringify(manifest))).status).toBe(201);
  return c;
}

/** Removes an object from the object servers only (its container row stays). */
async function vanish(c: string, name: string): Promise<void> {
  for (const r of await direct(lo.cluster.proxy.state.rings.object.get(0)!, 'DELETE', ['AUTH_test', c, name], { 'X-Timestamp': directTs() })) expect(r.status).toBe(204);
}

describe('slo GET and HEAD', () => {
  it('streams the segments with the quoted SLO ETag; HEAD and conditionals agree', async () => {
    const c = await slo({ a: 'aaaa', b: 'bbbbb' });
    const etag = `"${md5(md5('aaaa') + md5('bbbbb'))}"`;
    const get = await lo.req('GET', `/v1/AUTH_test/${c}/m`);
    expect(get.status).toBe(200);
    expect(get.body.toString()).toBe('aaaabbbbb');
    expect(get.headers['content-length']).toBe('9');
    expect(get.headers.etag).toBe(etag);
    expect(get.headers['content-type']).toBe('text/x-lo');
    expect(get.headers['x-static-large-object']).toBe('True');
    const manifestEtag = get.headers['x-manifest-etag'];
    expect(manifestEtag).toMatch(/^[0-9a-f]{32}$/);
    const head = await lo.req('HEAD', `/v1/AUTH_test/${c}/m`);
    expect([head.status, head.headers['content-length'], head.headers.etag, head.headers['x-manifest-etag']]).toEqual([200, '9', etag, manifestEtag]);
    expect(Object.keys(head.headers).filter((k) => k.includes('sysmeta'))).toEqual([]);
    const notModified = await lo.req('GET', `/v1/AUTH_test/${c}/m`, { 'If-None-Match': etag });
    expect([notModified.status, notModified.headers.etag, notModified.body.length]).toEqual([304, etag, 0]);
    expect((await lo.req('GET', `/v1/AUTH_test/${c}/m`, { 'If-Match': `"${manifestEtag}"` })).status).toBe(412);
    expect((await lo.req('GET', `/v1/AUTH_test/${c}/m`, { 'If-Match': etag })).body.toString()).toBe('aaaabbbbb');
  });

  it('serves ranges across segment boundaries', async () => {
    const c = await slo({ a: '0123', b: '4567' }, [{ data: Buffer.from('89').toString('base64') }]);
    const one = await lo.req('GET', `/v1/AUTH_test/${c}/m`, { Range: 'bytes=2-8' });
    expect([one.status, one.headers['content-range'], one.headers['content-length'], one.body.toString()]).toEqual([206, 'bytes 2-8/10', '7', '2345678']);
    const suffix = await lo.req('GET', `/v1/AUTH_test/${c}/m`, { Range: 'bytes=-5' });
    expect([suffix.status, suffix.body.toString()]).toEqual([206, '56789']);
    const multi = await lo.req('GET', `/v1/AUTH_test/${c}/m`, { Range: 'bytes=0-0,3-5' });
    expect(multi.status).toBe(206);
    const boundary = /^multipart\/byteranges;boundary=([0-9a-f]{32})$/.exec(multi.headers['content-type']!)![1];
    const expected = `--${boundary}\r\nContent-Type: text/x-lo\r\nContent-Range: bytes 0-0/10\r\n\r\n0\r\n--${boundary}\r\nContent-Type: text/x-lo\r\nContent-Range: bytes 3-5/10\r\n\r\n345\r\n--${boundary}--`;
    expect(multi.body.toString()).toBe(expected);
    expect(multi.headers['content-length']).toBe(String(expected.length));
    const bad = await lo.req('GET', `/v1/AUTH_test/${c}/m`, { Range: 'bytes=10-' });
    expect([bad.status, bad.headers['content-range']]).toEqual([416, 'bytes */10']);
    expect(bad.body.toString()).toContain('Requested Range Not Satisfiable');
  });

  it('returns the manifest with ?multipart-manifest=get, as PUT with &format=raw', async () => {
    const c = await slo({ a: 'aaaa' });
    const raw = await lo.req('GET', `/v1/AUTH_test/${c}/m?multipart-manifest=get&format=raw`);
    const body = `[{"etag": "${md5('aaaa')}", "path": "/${c}/a", "size_bytes": 4}]`;
    expect([raw.status, raw.body.toString(), raw.headers.etag, raw.headers['content-length']]).toEqual([200, body, md5(body), String(body.length)]);
    // The raw form PUTs back as the same large object.
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/again?multipart-manifest=put`, {}, body)).status).toBe(201);
    expect((await lo.req('GET', `/v1/AUTH_test/${c}/again`)).body.toString()).toBe('aaaa');
  });

  it('expands nested manifests, also within ranges, and handles unicode and empty segments', async () => {
    const c = await slo({ '☃a': 'aaaa', b: 'bbbb', z: '' });
    const inner = encodeURIComponent('ïnner');
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/${inner}?multipart-manifest=put`, {}, JSON.stringify([{ path: `${c}/m` }, { path: `${c}/b`, range: '0-1' }]))).status).toBe(201);
    const innerGet = await lo.req('GET', `/v1/AUTH_test/${c}/${inner}`);
    expect(innerGet.body.toString()).toBe('aaaabbbbbb');
    expect(innerGet.headers['content-length']).toBe('10');
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/outer?multipart-manifest=put`, {}, JSON.stringify([{ data: 'Pj4=' }, { path: `${c}/ïnner`, range: '3-6' }]))).status).toBe(201);
    const manifest = JSON.parse((await lo.req('GET', `/v1/AUTH_test/${c}/outer?multipart-manifest=get`)).body.toString()) as Record<string, unknown>[];
    expect(manifest[1]).toMatchObject({ name: `/${c}/ïnner`, bytes: 10, sub_slo: true, range: '3-6' });
    const outer = await lo.req('GET', `/v1/AUTH_test/${c}/outer`);
    expect([outer.status, outer.body.toString(), outer.headers['content-length']]).toEqual([200, '>>abbb', '6']);
    const ranged = await lo.req('GET', `/v1/AUTH_test/${c}/outer`, { Range: 'bytes=1-3' });
    expect([ranged.status, ranged.body.toString()]).toEqual([206, '>ab']);
  });
});

describe('slo failures', () => {
  it('refuses a loop of manifests with 409 (recursion limit)', async () => {
    const c = await slo({ a: 'aaaa' });
    // m -> a; loop -> m; then m is replaced by one pointing at loop: m -> loop -> m -> ...
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/loop?multipart-manifest=put`, {}, JSON.stringify([{ path: `${c}/m` }]))).status).toBe(201);
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/m?multipart-manifest=put`, {}, JSON.stringify([{ path: `${c}/loop` }]))).status).toBe(201);
    const r = await lo.req('GET', `/v1/AUTH_test/${c}/m`);
    expect(r.status).toBe(409);
    expect(r.body.toString()).toBe('<html><h1>Conflict</h1><p>There was a conflict when trying to complete your request.</p></html>');
  });

  it('is 409 when the first segment is missing, and cuts the body when a later one is', async () => {
    const c = await slo({ a: 'aaaa', b: 'bbbb', c: 'cccc' });
    await vanish(c, 'b');
    const mid = await lo.req('GET', `/v1/AUTH_test/${c}/m`);
    expect([mid.status, mid.headers['content-length'], mid.body.toString(), mid.complete]).toEqual([200, '12', 'aaaa', false]);
    await vanish(c, 'a');
    expect((await lo.req('GET', `/v1/AUTH_test/${c}/m`)).status).toBe(409);
    // HEAD answers from the manifest alone.
    expect((await lo.req('HEAD', `/v1/AUTH_test/${c}/m`)).status).toBe(200);
  });

  it('is 409 when a segment changed (ETag mismatch), cut when it is not the first', async () => {
    const c = await slo({ a: 'aaaa', b: 'bbbb' });
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/b`, {}, 'BBBB')).status).toBe(201);
    const mid = await lo.req('GET', `/v1/AUTH_test/${c}/m`);
    expect([mid.status, mid.body.toString(), mid.complete]).toEqual([200, 'aaaa', false]);
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/a`, {}, 'AAAA')).status).toBe(201);
    expect((await lo.req('GET', `/v1/AUTH_test/${c}/m`)).status).toBe(409);
  });

  it('reads segments as the user: 409 for segments in a container it cannot read', async () => {
    const c = await slo({ a: 'aaaa' });
    const hidden = await lo.container('slohidden');
    expect((await lo.req('PUT', `/v1/AUTH_test/${hidden}/s`, {}, 'secret')).status).toBe(201);
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/leak?multipart-manifest=put`, {}, JSON.stringify([{ path: `${hidden}/s` }]))).status).toBe(201);
    expect((await lo.req('POST', `/v1/AUTH_test/${c}`, { 'X-Container-Read': 'test2:tester2' })).status).toBe(204);
    const denied = await lo.req('GET', `/v1/AUTH_test/${c}/leak`, {}, undefined, lo.otherToken);
    expect(denied.status).toBe(409);
    expect(denied.body.toString()).not.toContain('secret');
    const allowed = await lo.req('GET', `/v1/AUTH_test/${c}/m`, {}, undefined, lo.otherToken);
    expect([allowed.status, allowed.body.toString()]).toEqual([200, 'aaaa']);
    // The owner reads both.
    expect((await lo.req('GET', `/v1/AUTH_test/${c}/leak`)).body.toString()).toBe('secret');
  });
});

describe('copies of large objects (copy middleware)', () => {
  it('copies an SLO as its content, or as a manifest with ?multipart-manifest=get', async () => {
    const c = await slo({ a: 'aaaa', b: 'bbbb' });
    const whole = await lo.req('COPY', `/v1/AUTH_test/${c}/m`, { Destination: `${c}/flat` });
    expect(whole.status).toBe(201);
    const flat = await lo.req('GET', `/v1/AUTH_test/${c}/flat`);
    expect([flat.body.toString(), flat.headers['x-static-large-object'], flat.headers.etag]).toEqual(['aaaabbbb', undefined, md5('aaaabbbb')]);
    const asManifest = await lo.req('COPY', `/v1/AUTH_test/${c}/m?multipart-manifest=get`, { Destination: `${c}/m2` });
    expect(asManifest.status).toBe(201);
    const copy = await lo.req('GET', `/v1/AUTH_test/${c}/m2`);
    expect([copy.body.toString(), copy.headers['x-static-large-object'], copy.headers.etag]).toEqual(['aaaabbbb', 'True', `"${md5(md5('aaaa') + md5('bbbb'))}"`]);
    expect(copy.headers['content-type']).toBe('text/x-lo');
    const raw = (p: string) => lo.req('GET', `/v1/AUTH_test/${c}/${p}?multipart-manifest=get&format=raw`).then((r) => r.body.toString());
    expect(await raw('m2')).toBe(await raw('m'));
  });

  it('copies a DLO manifest as a manifest with ?multipart-manifest=get', async () => {
    const c = await lo.container('dlo');
    for (const [i, b] of ['xx', 'yy'].entries()) expect((await lo.req('PUT', `/v1/AUTH_test/${c}/s/${i}`, {}, b)).status).toBe(201);
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/d`, { 'X-Object-Manifest': `${c}/s/` }, '')).status).toBe(201);
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/d2?multipart-manifest=get`, { 'X-Copy-From': `${c}/d` })).status).toBe(201);
    const d2 = await lo.req('GET', `/v1/AUTH_test/${c}/d2`);
    expect([d2.body.toString(), d2.headers['x-object-manifest']]).toEqual(['xxyy', `${c}/s/`]);
    expect((await lo.req('PUT', `/v1/AUTH_test/${c}/flat`, { 'X-Copy-From': `${c}/d` })).status).toBe(201);
    const flat = await lo.req('GET', `/v1/AUTH_test/${c}/flat`);
    expect([flat.body.toString(), flat.headers['x-object-manifest']]).toEqual(['xxyy', undefined]);
  });
});
