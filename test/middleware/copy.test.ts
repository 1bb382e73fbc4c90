/**
 * Server-side copy (COPY + Destination, PUT + X-Copy-From) through a whole cluster with
 * TempAuth: what is stored, the response headers, Swift's 4xx answers, and authorization of
 * the source read and the destination write with the caller's identity.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { devProxyConfig } from '../../src/cluster/dev-cluster';
import { startProxyServer, type RunningProxy } from '../../src/proxy/server';
import { loadSwiftConf } from '../../src/common/swift-conf';
import { Session } from '../conformance/replayer';
import { call, direct, leakedHeaders, uniq, type Resp } from '../proxy/helpers';

const MiB = 1024 * 1024;

let cl: TestCluster;
let session: Session;
let tester: string;
let tester3: string;
let tester2: string;
let admin: string;

beforeAll(async () => {
  cl = await startCluster();
  session = new Session(cl.url);
  tester = (await session.login('test:tester')).token;
  tester3 = (await session.login('test:tester3')).token;
  tester2 = (await session.login('test2:tester2')).token;
  admin = (await session.login('admin:admin')).token;
  // The accounts exist before the tests (as in the recorded cluster).
  for (const acct of ['AUTH_test', 'AUTH_test2']) expect((await call(cl.url, 'POST', `/v1/${acct}`, { 'X-Auth-Token': admin })).status).toBe(204);
}, 60_000);

afterAll(async () => {
  await cl?.stop();
});

function req(method: string, path: string, token: string | undefined, headers: Record<string, string> = {}, body?: string | Buffer | Readable): Promise<Resp> {
  const h: Record<string, string> = { ...headers };
  if (token) h['X-Auth-Token'] = token;
  if ((method === 'PUT' || method === 'POST') && body === undefined && h['Content-Length'] === undefined) h['Content-Length'] = '0';
  return call(cl.url, method, path, h, { body });
}

/** A fresh container in AUTH_test (owner tester) with the given container headers. */
async function container(headers: Record<string, string> = {}, account = 'AUTH_test', token = tester): Promise<string> {
  const c = uniq('copy');
  expect((await req('PUT', `/v1/${account}/${c}`, token, headers)).status).toBe(201);
  return c;
}

async function putObject(path: string, body: string, headers: Record<string, string> = {}, token = tester): Promise<Resp> {
  const r = await req('PUT', path, token, headers, body);
  expect(r.status).toBe(201);
  return r;
}

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');

describe('COPY and PUT with X-Copy-From', () => {
  it('COPY keeps data, content type and metadata, and answers with the X-Copied-From headers', async () => {
    const c = await container();
    const c2 = await container();
    await putObject(`/v1/AUTH_test/${c}/src`, 'source', {
      'Content-Type': 'text/x-src',
      'X-Object-Meta-Tag': 's',
      'Content-Disposition': 'attachment',
      'Content-Encoding': 'identity',
    });
    const src = await req('HEAD', `/v1/AUTH_test/${c}/src`, tester);
    const r = await req('COPY', `/v1/AUTH_test/${c}/src`, tester, { Destination: `${c2}/dst` });
    expect(r.status).toBe(201);
    expect(r.text).toBe('');
    expect(r.headers['content-length']).toBe('0');
    expect(r.headers.etag).toBe(md5('source'));
    expect(r.headers['x-copied-from']).toBe(`${c}/src`);
    expect(r.headers['x-copied-from-account']).toBe('AUTH_test');
    expect(r.headers['x-copied-from-last-modified']).toBe(src.headers['last-modified']);
    expect(r.headers['x-object-meta-tag']).toBe('s');
    expect(leakedHeaders(r)).toEqual([]);
    const g = await req('GET', `/v1/AUTH_test/${c2}/dst`, tester);
    expect(g.status).toBe(200);
    expect(g.text).toBe('source');
    expect(g.headers['content-type']).toBe('text/x-src');
    expect(g.headers['x-object-meta-tag']).toBe('s');
    expect(g.headers['content-disposition']).toBe('attachment');
    expect(g.headers['content-encoding']).toBe('identity');
    // The copy is a new object: its own timestamp, the source untouched.
    expect(Number(g.headers['x-timestamp'])).toBeGreaterThan(Number(src.headers['x-timestamp']));
    expect((await req('GET', `/v1/AUTH_test/${c}/src`, tester)).text).toBe('source');
    const listing = JSON.parse((await req('GET', `/v1/AUTH_test/${c2}?format=json`, tester)).text) as { name: string; hash: string; bytes: number; content_type: string }[];
    expect(listing.map(({ name, hash, bytes, content_type }) => ({ name, hash, bytes, content_type }))).toEqual([
      { name: 'dst', hash: md5('source'), bytes: 6, content_type: 'text/x-src' },
    ]);
  });

  it('PUT with X-Copy-From merges the request metadata over the source and may change the content type', async () => {
    const c = await container();
    await putObject(`/v1/AUTH_test/${c}/src`, 'data', { 'Content-Type': 'text/plain', 'X-Object-Meta-Tag': 's', 'X-Object-Meta-Keep': 'k' });
    const r = await req('PUT', `/v1/AUTH_test/${c}/dst`, tester, {
      'X-Copy-From': `/${c}/src`,
      'X-Object-Meta-Tag': 'new',
      'X-Object-Meta-Extra': 'e',
      'Content-Type': 'application/x-new',
    });
    expect(r.status).toBe(201);
    expect(r.headers['x-copied-from']).toBe(`${c}/src`);
    expect(r.headers['x-copied-from-account']).toBe('AUTH_test');
    expect(r.headers['x-object-meta-tag']).toBe('new');
    expect(r.headers['x-object-meta-keep']).toBe('k');
    expect(r.headers['x-object-meta-extra']).toBe('e');
    const g = await req('GET', `/v1/AUTH_test/${c}/dst`, tester);
    expect(g.text).toBe('data');
    expect(g.headers['content-type']).toBe('application/x-new');
    expect(g.headers['x-object-meta-tag']).toBe('new');
    expect(g.headers['x-object-meta-keep']).toBe('k');
    expect(g.headers['x-object-meta-extra']).toBe('e');
  });

  it('X-Fresh-Metadata drops the source metadata but keeps its content type', async () => {
    const c = await container();
    await putObject(`/v1/AUTH_test/${c}/src`, 'data', { 'Content-Type': 'text/x-src', 'X-Object-Meta-Tag': 's', 'Content-Disposition': 'inline' });
    const r = await req('PUT', `/v1/AUTH_test/${c}/fresh`, tester, { 'X-Copy-From': `${c}/src`, 'X-Fresh-Metadata': 'true', 'X-Object-Meta-Extra': 'e' });
    expect(r.status).toBe(201);
    expect(r.headers['x-object-meta-tag']).toBeUndefined();
    expect(r.headers['x-object-meta-extra']).toBe('e');
    const g = await req('GET', `/v1/AUTH_test/${c}/fresh`, tester);
    expect(g.text).toBe('data');
    expect(g.headers['x-object-meta-tag']).toBeUndefined();
    expect(g.headers['content-disposition']).toBeUndefined();
    expect(g.headers['x-object-meta-extra']).toBe('e');
    expect(g.headers['content-type']).toBe('text/x-src');
    // COPY honours it as well.
    const r2 = await req('COPY', `/v1/AUTH_test/${c}/src`, tester, { Destination: `${c}/fresh2`, 'X-Fresh-Metadata': 'yes' });
    expect(r2.status).toBe(201);
    expect((await req('HEAD', `/v1/AUTH_test/${c}/fresh2`, tester)).headers['x-object-meta-tag']).toBeUndefined();
  });

  it('copies over an existing object and onto itself (a metadata update)', async () => {
    const c = await container();
    await putObject(`/v1/AUTH_test/${c}/o`, 'one', { 'X-Object-Meta-A': '1' });
    await putObject(`/v1/AUTH_test/${c}/p`, 'two');
    expect((await req('COPY', `/v1/AUTH_test/${c}/o`, tester, { Destination: `/${c}/p` })).status).toBe(201);
    expect((await req('GET', `/v1/AUTH_test/${c}/p`, tester)).text).toBe('one');
    const self = await req('COPY', `/v1/AUTH_test/${c}/o`, tester, { Destination: `${c}/o`, 'X-Object-Meta-B': '2' });
    expect(self.status).toBe(201);
    const g = await req('GET', `/v1/AUTH_test/${c}/o`, tester);
    expect(g.text).toBe('one');
    expect(g.headers['x-object-meta-a']).toBe('1');
    expect(g.headers['x-object-meta-b']).toBe('2');
  });

  it('applies Range to the source (a partial copy, not checked against the source ETag)', async () => {
    const c = await container();
    await putObject(`/v1/AUTH_test/${c}/src`, '0123456789');
    const r = await req('PUT', `/v1/AUTH_test/${c}/part`, tester, { 'X-Copy-From': `${c}/src`, Range: 'bytes=2-5' });
    expect(r.status).toBe(201);
    expect(r.headers.etag).toBe(md5('2345'));
    expect((await req('GET', `/v1/AUTH_test/${c}/part`, tester)).text).toBe('2345');
  });

  it('handles percent-encoded and non-ASCII names, and object names that look like dot segments', async () => {
    const c = await container();
    await putObject(`/v1/AUTH_test/${c}/caf%C3%A9%20src`, 'utf8', { 'X-Object-Meta-Name': 'caf\u00c3\u00a9' });
    const r = await req('COPY', `/v1/AUTH_test/${c}/caf%C3%A9%20src`, tester, { Destination: `${c}/x/../d%C3%A9st` });
    expect(r.status).toBe(201);
    expect(r.headers['x-copied-from']).toBe(`${c}/caf%C3%A9%20src`);
    // The name is stored literally; the subrequest path is never normalised.
    const g = await req('GET', `/v1/AUTH_test/${c}/x/../d%C3%A9st`, tester);
    expect(g.status).toBe(200);
    expect(g.text).toBe('utf8');
    // The copy stores the source's metadata bytes unchanged.
    expect(g.headers['x-object-meta-name']).toBe((await req('GET', `/v1/AUTH_test/${c}/caf%C3%A9%20src`, tester)).headers['x-object-meta-name']);
    const ring = cl.proxy.state.rings.object.get(0)!;
    const stored = async (o: string) => (await direct(ring, 'HEAD', ['AUTH_test', c, o], { 'X-Backend-Storage-Policy-Index': '0' }))[0]!.headers['x-object-meta-name'];
    expect(await stored('x/../dést')).toBe(await stored('café src'));
    const names = (await req('GET', `/v1/AUTH_test/${c}`, tester)).text.split('\n').filter(Boolean);
    expect(names).toEqual(['café src', 'x/../dést']);
    const r2 = await req('PUT', `/v1/AUTH_test/${c}/second`, tester, { 'X-Copy-From': `${c}/x/../d%C3%A9st` });
    expect(r2.status).toBe(201);
    expect(r2.headers['x-copied-from']).toBe(`${c}/x/../d%C3%A9st`);
  });

  it('streams a 20 MiB object from the source into the copy with the right ETag', async () => {
    const c = await container();
    const size = 20 * MiB;
    const chunk = (i: number) => Buffer.alloc(64 * 1024, i % 251);
    const count = size / (64 * 1024);
    const h = createHash('md5');
    for (let i = 0; i < count; i++) h.update(chunk(i));
    const sum = h.digest('hex');
    const up = await req(
      'PUT',
      `/v1/AUTH_test/${c}/big`,
      tester,
      { 'Content-Length': String(size) },
      Readable.from(
        (function* () {
          for (let i = 0; i < count; i++) yield chunk(i);
        })(),
      ),
    );
    expect(up.status).toBe(201);
    expect(up.headers.etag).toBe(sum);
    const r = await req('COPY', `/v1/AUTH_test/${c}/big`, tester, { Destination: `${c}/big-copy` });
    expect(r.status).toBe(201);
    expect(r.headers.etag).toBe(sum);
    const got = await getMd5(`/v1/AUTH_test/${c}/big-copy`, tester);
    expect(got).toEqual({ status: 200, length: size, md5: sum });
    // A denied copy of the big object answers at once and lets go of the source.
    for (let i = 0; i < 5; i++) expect((await req('COPY', `/v1/AUTH_test/${c}/big`, tester, { Destination: `${c}/big`, 'Destination-Account': 'AUTH_test2' })).status).toBe(403);
    expect((await req('HEAD', `/v1/AUTH_test/${c}/big-copy`, tester)).status).toBe(200);
  });

  it('adds COPY to the methods an object OPTIONS lists', async () => {
    const c = await container();
    const r = await req('OPTIONS', `/v1/AUTH_test/${c}/o`, tester);
    expect(r.status).toBe(200);
    expect(r.headers.allow).toBe('OPTIONS, POST, PUT, GET, DELETE, HEAD, COPY');
    // Containers and accounts have no COPY.
    expect((await req('OPTIONS', `/v1/AUTH_test/${c}`, tester)).headers.allow).not.toContain('COPY');
    const m = await req('COPY', `/v1/AUTH_test/${c}`, tester, { Destination: `${c}/x` });
    expect(m.status).toBe(405);
  });
});

describe('cross-account copies', () => {
  it('copies between accounts the caller can read and write', async () => {
    const c = await container();
    await putObject(`/v1/AUTH_test/${c}/src`, 'across', { 'X-Object-Meta-Tag': 'x' });
    const d = await container({}, 'AUTH_test2', tester2);
    // The reseller admin can do both.
    const r = await req('COPY', `/v1/AUTH_test/${c}/src`, admin, { Destination: `${d}/dst`, 'Destination-Account': 'AUTH_test2' });
    expect(r.status).toBe(201);
    expect(r.headers['x-copied-from-account']).toBe('AUTH_test');
    expect(r.headers['x-copied-from']).toBe(`${c}/src`);
    expect((await req('GET', `/v1/AUTH_test2/${d}/dst`, tester2)).text).toBe('across');
    // test2:tester2 owns AUTH_test2 but needs read access to the source container.
    const pull = () => req('PUT', `/v1/AUTH_test2/${d}/pulled`, tester2, { 'X-Copy-From': `${c}/src`, 'X-Copy-From-Account': 'AUTH_test' });
    expect((await pull()).status).toBe(403);
    expect((await req('POST', `/v1/AUTH_test/${c}`, tester, { 'X-Container-Read': 'test2:tester2' })).status).toBe(204);
    const ok = await pull();
    expect(ok.status).toBe(201);
    expect(ok.headers['x-copied-from-account']).toBe('AUTH_test');
    expect(ok.headers['x-object-meta-tag']).toBe('x');
    expect((await req('GET', `/v1/AUTH_test2/${d}/pulled`, tester2)).text).toBe('across');
    // ... and tester cannot write into AUTH_test2.
    expect((await req('COPY', `/v1/AUTH_test/${c}/src`, tester, { Destination: `${d}/no`, 'Destination-Account': 'AUTH_test2' })).status).toBe(403);
    expect((await req('HEAD', `/v1/AUTH_test2/${d}/no`, tester2)).status).toBe(404);
  });
});

describe('Swift errors', () => {
  it('answers the 4xx Swift answers', async () => {
    const c = await container();
    await putObject(`/v1/AUTH_test/${c}/src`, 'x');
    const cases: [string, Record<string, string>, number, string][] = [
      ['COPY', {}, 412, 'Destination header required'],
      ['COPY', { Destination: '' }, 412, 'Destination header required'],
      ['COPY', { Destination: 'nocontainer' }, 412, 'Destination header must be of the form <container name>/<object name>'],
      ['COPY', { Destination: `${c}/` }, 412, 'Destination header must be of the form <container name>/<object name>'],
      ['COPY', { Destination: `//${c}/o` }, 412, 'Destination header must be of the form <container name>/<object name>'],
      ['COPY', { Destination: `${c}/o`, 'Destination-Account': '' }, 412, 'Account name cannot be empty'],
      ['COPY', { Destination: `${c}/o`, 'Destination-Account': 'AUTH_a/b' }, 412, 'Account name cannot contain slashes'],
      ['PUT', { 'X-Copy-From': 'bad' }, 412, 'X-Copy-From header must be of the form <container name>/<object name>'],
      ['PUT', { 'X-Copy-From': `${c}/src`, 'X-Copy-From-Account': 'AUTH_a%2Fb' }, 412, 'Account name cannot contain slashes'],
    ];
    for (const [method, headers, status, body] of cases) {
      const path = method === 'COPY' ? `/v1/AUTH_test/${c}/src` : `/v1/AUTH_test/${c}/dst`;
      const r = await req(method, path, tester, headers);
      expect(r.status, JSON.stringify(headers)).toBe(status);
      expect(r.text, JSON.stringify(headers)).toBe(body);
      expect(r.headers['content-type']).toBe('text/html; charset=UTF-8');
    }
    const withBody = await req('PUT', `/v1/AUTH_test/${c}/dst`, tester, { 'X-Copy-From': `${c}/src` }, 'abc');
    expect(withBody.status).toBe(400);
    expect(withBody.text).toBe('Copy requests require a zero byte body');
    // Missing source, missing destination container.
    const missing = await req('COPY', `/v1/AUTH_test/${c}/missing`, tester, { Destination: `${c}/y` });
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('<html><h1>Not Found</h1><p>The resource could not be found.</p></html>');
    const noContainer = await req('COPY', `/v1/AUTH_test/${c}/src`, tester, { Destination: `${c}-none/y` });
    expect(noContainer.status).toBe(404);
    // Nothing was created by any of these.
    const names = (await req('GET', `/v1/AUTH_test/${c}`, tester)).text.split('\n').filter(Boolean);
    expect(names).toEqual(['src']);
  });

  it('refuses a source larger than max_file_size with 413', async () => {
    // A second proxy on the same storage, with a 100-byte limit: the source was stored under
    // the default one.
    const c = await container();
    await putObject(`/v1/AUTH_test/${c}/big`, 'x'.repeat(200));
    await putObject(`/v1/AUTH_test/${c}/small`, 'x'.repeat(100));
    const swiftConf = loadSwiftConf(cl.swiftDir);
    let small: RunningProxy | undefined;
    try {
      small = await startProxyServer({
        config: devProxyConfig({}),
        host: '127.0.0.1',
        port: 0,
        swiftDir: cl.swiftDir,
        swiftConf: { ...swiftConf, constraints: { ...swiftConf.constraints, max_file_size: 100 } },
        logger: pino({ level: 'silent' }),
      });
      const s = new Session(small.url);
      const token = (await s.login('test:tester')).token;
      const r = await call(small.url, 'COPY', `/v1/AUTH_test/${c}/big`, { 'X-Auth-Token': token, Destination: `${c}/copy` });
      expect(r.status).toBe(413);
      expect(r.text).toBe('<html><h1>Request Entity Too Large</h1><p>The body of your request was too large for this server.</p></html>');
      const ok = await call(small.url, 'PUT', `/v1/AUTH_test/${c}/copy`, { 'X-Auth-Token': token, 'X-Copy-From': `${c}/small`, 'Content-Length': '0' });
      expect(ok.status).toBe(201);
    } finally {
      await small?.close();
    }
    expect((await req('HEAD', `/v1/AUTH_test/${c}/copy`, tester)).headers['content-length']).toBe('100');
  });
});

describe('authorization: the source is read and the destination written as the caller', () => {
  it('owner: any container of the account', async () => {
    const c = await container();
    const c2 = await container();
    await putObject(`/v1/AUTH_test/${c}/o`, 'x');
    expect((await req('COPY', `/v1/AUTH_test/${c}/o`, tester, { Destination: `${c2}/o` })).status).toBe(201);
  });

  it('read-only user: 403, nothing written', async () => {
    const c = await container({ 'X-Container-Read': 'test:tester3' });
    await putObject(`/v1/AUTH_test/${c}/o`, 'x');
    expect((await req('GET', `/v1/AUTH_test/${c}/o`, tester3)).status).toBe(200);
    const r = await req('COPY', `/v1/AUTH_test/${c}/o`, tester3, { Destination: `${c}/copy` });
    expect(r.status).toBe(403);
    expect(r.text).toBe('<html><h1>Forbidden</h1><p>Access was denied to this resource.</p></html>');
    expect(r.headers['www-authenticate']).toBeUndefined();
    expect((await req('PUT', `/v1/AUTH_test/${c}/copy2`, tester3, { 'X-Copy-From': `${c}/o` })).status).toBe(403);
    expect((await req('HEAD', `/v1/AUTH_test/${c}/copy`, tester)).status).toBe(404);
    expect((await req('HEAD', `/v1/AUTH_test/${c}/copy2`, tester)).status).toBe(404);
  });

  it('write-only user: 403 (the source GET is a read), nothing written', async () => {
    const c = await container({ 'X-Container-Write': 'test:tester3' });
    await putObject(`/v1/AUTH_test/${c}/o`, 'x');
    expect((await req('PUT', `/v1/AUTH_test/${c}/w`, tester3, {}, 'w')).status).toBe(201);
    expect((await req('COPY', `/v1/AUTH_test/${c}/o`, tester3, { Destination: `${c}/copy` })).status).toBe(403);
    expect((await req('PUT', `/v1/AUTH_test/${c}/copy2`, tester3, { 'X-Copy-From': `${c}/o` })).status).toBe(403);
    // Not even a missing source is revealed.
    expect((await req('COPY', `/v1/AUTH_test/${c}/missing`, tester3, { Destination: `${c}/copy` })).status).toBe(403);
    const names = (await req('GET', `/v1/AUTH_test/${c}`, tester)).text.split('\n').filter(Boolean);
    expect(names).toEqual(['o', 'w']);
  });

  it('read and write ACLs: copies within the container, not into others', async () => {
    const c = await container({ 'X-Container-Read': 'test:tester3', 'X-Container-Write': 'test:tester3' });
    const other = await container({ 'X-Container-Write': 'test:tester3' });
    const closed = await container();
    await putObject(`/v1/AUTH_test/${c}/o`, 'x', { 'X-Object-Meta-K': 'v' });
    const r = await req('COPY', `/v1/AUTH_test/${c}/o`, tester3, { Destination: `${c}/copy` });
    expect(r.status).toBe(201);
    expect(r.headers['x-object-meta-k']).toBe('v');
    // Writable destination elsewhere: fine; unwritable: 403.
    expect((await req('COPY', `/v1/AUTH_test/${c}/o`, tester3, { Destination: `${other}/copy` })).status).toBe(201);
    expect((await req('COPY', `/v1/AUTH_test/${c}/o`, tester3, { Destination: `${closed}/copy` })).status).toBe(403);
    // An unreadable source into a writable container: 403.
    await putObject(`/v1/AUTH_test/${closed}/secret`, 's');
    expect((await req('PUT', `/v1/AUTH_test/${c}/stolen`, tester3, { 'X-Copy-From': `${closed}/secret` })).status).toBe(403);
    expect((await req('HEAD', `/v1/AUTH_test/${c}/stolen`, tester)).status).toBe(404);
  });

  it('anonymous with a referrer ACL: the source read is allowed, the write is not (401)', async () => {
    const c = await container({ 'X-Container-Read': '.r:example.com' });
    await putObject(`/v1/AUTH_test/${c}/o`, 'x');
    const referer = { Referer: 'http://example.com/page' };
    expect((await req('GET', `/v1/AUTH_test/${c}/o`, undefined, referer)).status).toBe(200);
    const r = await req('COPY', `/v1/AUTH_test/${c}/o`, undefined, { ...referer, Destination: `${c}/copy` });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Swift realm="AUTH_test"');
    // The referrer did grant the read: a missing source is a 404, not a 401.
    expect((await req('COPY', `/v1/AUTH_test/${c}/missing`, undefined, { ...referer, Destination: `${c}/copy` })).status).toBe(404);
    expect((await req('COPY', `/v1/AUTH_test/${c}/missing`, undefined, { Destination: `${c}/copy` })).status).toBe(401);
    expect((await req('HEAD', `/v1/AUTH_test/${c}/copy`, tester)).status).toBe(404);
  });

  it('an invalid token is refused before any copy work', async () => {
    const c = await container();
    const r = await req('COPY', `/v1/AUTH_test/${c}/o`, 'AUTH_tk00000000000000000000000000000000', {});
    expect(r.status).toBe(401);
  });
});

/** GETs an object, hashing the body as it streams. */
function getMd5(path: string, token: string): Promise<{ status: number; md5: string; length: number }> {
  const u = new URL(cl.url);
  return new Promise((resolve, reject) => {
    request({ host: u.hostname, port: u.port, path, method: 'GET', agent: false, headers: { 'X-Auth-Token': token } }, (res) => {
      const h = createHash('md5');
      let length = 0;
      res.on('data', (c: Buffer) => {
        h.update(c);
        length += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode!, md5: h.digest('hex'), length }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}
