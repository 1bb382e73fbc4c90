/**
 * bulk through a whole cluster (dev pipeline with bulk before tempauth, as in Swift's sample
 * pipeline): bulk delete and extract archive run each item as a subrequest authenticated by the
 * client's token, so ACLs apply per item, and the result is Swift's 200 with a body saying how
 * it went. yield_frequency = 0 makes the keep-alive bytes deterministic (one per item).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { DEV_PROXY_CONF } from '../../src/cluster/dev-cluster';
import { send, Session } from '../conformance/replayer';

let cluster: TestCluster;
let tok: string;
let tok3: string;
let seq = 0;

// The dev pipeline already has bulk before tempauth, as Swift's sample pipeline does.
const CONF = DEV_PROXY_CONF.replace(
  '[filter:bulk]\nuse = egg:swift#bulk\n',
  `[filter:bulk]
use = egg:swift#bulk
yield_frequency = 0
max_deletes_per_request = 20
max_failed_deletes = 3
max_containers_per_extraction = 3
`,
);

beforeAll(async () => {
  expect(CONF).toContain('max_deletes_per_request = 20');
  cluster = await startCluster({ proxyConfig: CONF });
  const session = new Session(cluster.url);
  tok = (await session.login('test:tester')).token;
  tok3 = (await session.login('test:tester3')).token;
  expect((await send(cluster.url, 'POST', '/v1/AUTH_test', { 'X-Auth-Token': tok })).status).toBe(204);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with a binary body (Content-Length, or chunked when asked). */
function raw(method: string, path: string, headers: Record<string, string>, body?: Buffer, chunked = false): Promise<Raw> {
  const url = new URL(cluster.url);
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = { ...headers };
    if (!chunked) h['Content-Length'] = String(body?.length ?? 0);
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers: h, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    if (chunked && body) {
      // Two chunks, so the reader sees a header split across them.
      req.write(body.subarray(0, 700));
      req.end(body.subarray(700));
    } else req.end(body);
  });
}

const req = (method: string, path: string, headers: Record<string, string> = {}, body?: string, token = tok) =>
  send(cluster.url, method, path, { 'X-Auth-Token': token, ...headers }, body);

async function container(headers: Record<string, string> = {}): Promise<string> {
  seq += 1;
  const c = `bulk${process.pid}x${seq}x${Math.random().toString(36).slice(2, 7)}`;
  expect((await req('PUT', `/v1/AUTH_test/${c}`, headers)).status).toBe(201);
  return c;
}

/** The JSON result after the keep-alive bytes. */
function result(res: Raw): Record<string, unknown> {
  expect(res.status).toBe(200);
  return JSON.parse(res.body.replace(/^\s+/, '')) as Record<string, unknown>;
}

// ---- a small tar writer (ustar, GNU long names, pax) ----

interface Member {
  name: string;
  /** The name's bytes, when they are not UTF-8. */
  rawName?: Buffer;
  data?: string | Buffer;
  type?: string;
  pax?: Record<string, string>;
}

function header(name: Buffer, size: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  name.copy(h, 0, 0, Math.min(100, name.length));
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  h.write('14500000000\0', 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(type, 156, 'latin1');
  h.write('ustar\0' + '00', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

function paxRecords(pax: Record<string, string>): Buffer {
  const parts = Object.entries(pax).map(([k, v]) => {
    const rest = Buffer.byteLength(` ${k}=${v}\n`);
    let len = rest + String(rest).length;
    if (String(len).length !== String(rest).length) len = rest + String(len).length;
    return Buffer.from(`${len} ${k}=${v}\n`, 'utf8');
  });
  return Buffer.concat(parts);
}

function tar(members: Member[]): Buffer {
  const out: Buffer[] = [];
  for (const m of members) {
    const data = Buffer.from(m.data ?? '');
    const name = m.rawName ?? Buffer.from(m.name, 'utf8');
    if (m.pax) {
      const recs = paxRecords(m.pax);
      out.push(header(Buffer.from('PaxHeader'), recs.length, 'x'), pad(recs));
    }
    if (name.length > 100) {
      const ln = Buffer.concat([name, Buffer.from([0])]);
      out.push(header(Buffer.from('././@LongLink'), ln.length, 'L'), pad(ln));
    }
    out.push(header(name, m.type === '5' ? 0 : data.length, m.type ?? '0'));
    if (m.type !== '5') out.push(pad(data));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

// ---- tests ----

describe('/info', () => {
  it('registers bulk_delete and bulk_upload as Swift does', async () => {
    const info = JSON.parse((await send(cluster.url, 'GET', '/info', {})).body.toString()) as Record<string, unknown>;
    expect(info.bulk_delete).toEqual({ max_deletes_per_request: 20, max_failed_deletes: 3 });
    expect(info.bulk_upload).toEqual({ max_containers_per_extraction: 3, max_failed_extractions: 1000 });
  });
});

describe('bulk delete', () => {
  it('deletes objects then their container, counting the missing ones (JSON)', async () => {
    const c = await container();
    const names = ['a', 'sp ace', 'ünï', 'dir/deep/obj'];
    for (const n of names) expect((await req('PUT', `/v1/AUTH_test/${c}/${encodeURIComponent(n).replace(/%2F/g, '/')}`, {}, n)).status).toBe(201);
    // The container is listed first: bulk still deletes it after its objects.
    const list = [`/${c}`, ...names.map((n) => `/${c}/${encodeURIComponent(n)}`), `/${c}/missing`, `/nocontainer${seq}/x`, '', '  '].join('\n');
    const res = await raw('POST', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': tok, Accept: 'application/json', 'Content-Type': 'text/plain' }, Buffer.from(list));
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['content-length']).toBeUndefined();
    const body = res.body.replace(/^ +\r\n\r\n/, '');
    expect(body).toBe('{"Response Status": "200 OK", "Response Body": "", "Number Deleted": 5, "Number Not Found": 2, "Errors": []}');
    expect((await req('HEAD', `/v1/AUTH_test/${c}`)).status).toBe(404);
  });

  it('answers in text/plain by default and in XML on request, with keep-alives before the result', async () => {
    const c = await container();
    await req('PUT', `/v1/AUTH_test/${c}/o1`, {}, 'x');
    const plain = await raw('DELETE', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': tok }, Buffer.from(`/${c}/o1\n/${c}/o2\n`));
    expect(plain.status).toBe(200);
    // No Accept: text/plain is the best match (and becomes the Content-Type).
    expect(plain.headers['content-type']).toBe('text/plain');
    // One keep-alive per processed item (yield_frequency = 0), then the separator.
    expect(plain.body).toBe('  \r\n\r\nNumber Deleted: 1\nNumber Not Found: 1\nResponse Body: \nResponse Status: 200 OK\nErrors:\n');

    await req('PUT', `/v1/AUTH_test/${c}/o1`, {}, 'x');
    const xml = await raw('POST', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': tok, Accept: 'text/xml' }, Buffer.from(`/${c}/o1\n/${c}\n`));
    expect(xml.headers['content-type']).toBe('text/xml');
    expect(xml.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n \r\n\r\n<delete>\n<number_deleted>2</number_deleted>\n<number_not_found>0</number_not_found>\n<response_body></response_body>\n<response_status>200 OK</response_status>\n<errors>\n</errors>\n</delete>\n',
    );
  });

  it('reports 406 for an unacceptable Accept or a non-text/plain body, and 400 for an empty list', async () => {
    const png = await raw('POST', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': tok, Accept: 'image/png' }, Buffer.from('/x/y'));
    expect(png.status).toBe(200);
    expect(png.headers['content-type']).toBe('text/html; charset=UTF-8');
    expect(png.body).toBe('Number Deleted: 0\nNumber Not Found: 0\nResponse Body: \nResponse Status: 406 Not Acceptable\nErrors:\n');
    const json = await raw('POST', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': tok, Accept: 'application/json', 'Content-Type': 'application/json' }, Buffer.from('["/x/y"]'));
    expect(result(json)).toMatchObject({ 'Response Status': '406 Not Acceptable', 'Number Deleted': 0 });
    const empty = await raw('POST', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': tok, Accept: 'application/json' }, Buffer.from('\n'));
    expect(result(empty)).toMatchObject({ 'Response Status': '400 Bad Request', 'Response Body': 'Invalid bulk delete.' });
  });

  it('applies ACLs per item: 403s are listed, a write ACL lets a non-owner delete', async () => {
    const c = await container();
    for (const o of ['p', 'q']) await req('PUT', `/v1/AUTH_test/${c}/${o}`, {}, o);
    const denied = result(await raw('POST', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': tok3, Accept: 'application/json' }, Buffer.from(`/${c}/p\n/${c}/q\n`)));
    expect(denied).toEqual({
      'Response Status': '400 Bad Request',
      'Response Body': '',
      'Number Deleted': 0,
      'Number Not Found': 0,
      Errors: [
        [`/${c}/p`, '403 Forbidden'],
        [`/${c}/q`, '403 Forbidden'],
      ],
    });
    expect((await req('HEAD', `/v1/AUTH_test/${c}/p`)).status).toBe(200);

    expect((await req('POST', `/v1/AUTH_test/${c}`, { 'X-Container-Write': 'test:tester3' })).status).toBe(204);
    const allowed = result(await raw('POST', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': tok3, Accept: 'application/json' }, Buffer.from(`/${c}/p\n/${c}/q\n`)));
    expect(allowed).toMatchObject({ 'Response Status': '200 OK', 'Number Deleted': 2, Errors: [] });
    expect((await req('HEAD', `/v1/AUTH_test/${c}/p`)).status).toBe(404);
  });

  it('lists a non-empty container as 409 and a bad token as 401 per item', async () => {
    const c = await container();
    await req('PUT', `/v1/AUTH_test/${c}/keep`, {}, 'k');
    const conflict = result(await raw('POST', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': tok, Accept: 'application/json' }, Buffer.from(`/${c}`)));
    expect(conflict).toMatchObject({ 'Response Status': '400 Bad Request', Errors: [[`/${c}`, '409 Conflict']] });
    const unauth = result(await raw('POST', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': 'AUTH_tkbogus', Accept: 'application/json' }, Buffer.from(`/${c}/keep`)));
    expect(unauth).toMatchObject({ 'Response Status': '400 Bad Request', Errors: [[`/${c}/keep`, '401 Unauthorized']] });
    expect((await req('HEAD', `/v1/AUTH_test/${c}/keep`)).status).toBe(200);
  });

  it('stops after max_failed_deletes and refuses more than max_deletes_per_request', async () => {
    const c = await container();
    const list = Array.from({ length: 8 }, (_, i) => `/${c}/o${i}`).join('\n');
    const stopped = result(await raw('POST', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': tok3, Accept: 'application/json' }, Buffer.from(list)));
    expect(stopped['Response Status']).toBe('400 Bad Request');
    expect(stopped['Response Body']).toBe('Max delete failures exceeded');
    const errors = stopped.Errors as string[][];
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(errors.length).toBeLessThan(8);

    const many = Array.from({ length: 21 }, (_, i) => `/${c}/o${i}`).join('\n');
    const tooMany = result(await raw('POST', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': tok, Accept: 'application/json' }, Buffer.from(many)));
    expect(tooMany).toMatchObject({ 'Response Status': '413 Request Entity Too Large', 'Response Body': 'Maximum Bulk Deletes: 20 per request', 'Number Deleted': 0 });
  });

  it('leaves other requests alone (GET with ?bulk-delete, PUT without extract-archive)', async () => {
    const c = await container();
    const get = await req('GET', `/v1/AUTH_test/${c}?bulk-delete`);
    expect(get.status).toBe(204);
  });
});

describe('extract archive', () => {
  it('creates containers and objects from a tar with nested directories', async () => {
    const c1 = `ex${process.pid}a${seq++}`;
    const c2 = `ex${process.pid}b${seq++}`;
    const archive = tar([
      { name: 'top.txt', data: 'ignored: no container' },
      { name: `${c1}/`, type: '5' },
      { name: `./${c1}/a.txt`, data: 'alpha' },
      { name: `${c1}/dir/b.txt`, data: 'beta'.repeat(300) },
      { name: `/${c2}/deep/er/c.txt`, data: '' },
    ]);
    const res = await raw('PUT', '/v1/AUTH_test?extract-archive=tar', { 'X-Auth-Token': tok, Accept: 'application/json', 'X-Object-Meta-Source': 'bulk', 'X-Delete-After': '3600' }, archive);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body.replace(/^ +\r\n\r\n/, '')).toBe('{"Response Status": "201 Created", "Response Body": "", "Number Files Created": 3, "Errors": []}');
    const a = await req('GET', `/v1/AUTH_test/${c1}/a.txt`);
    expect([a.status, a.body.toString()]).toEqual([200, 'alpha']);
    expect(a.headers['x-object-meta-source']).toBe('bulk');
    expect(a.headers['x-delete-at']).toMatch(/^\d+$/);
    expect((await req('GET', `/v1/AUTH_test/${c1}/dir/b.txt`)).body.toString()).toBe('beta'.repeat(300));
    const cobj = await req('HEAD', `/v1/AUTH_test/${c2}/deep/er/c.txt`);
    expect([cobj.status, cobj.headers['content-length']]).toEqual([200, '0']);
    const listing = await req('GET', `/v1/AUTH_test/${c1}`);
    expect(listing.body.toString()).toBe('a.txt\ndir/b.txt\n');
  });

  it('extracts a chunked tar.gz under a container and prefix, with pax xattrs and long names', async () => {
    const c = await container();
    const long = `${'n'.repeat(150)}/file`;
    const archive = gzipSync(
      tar([
        { name: 'x/y.txt', data: 'why', pax: { 'SCHILY.xattr.user.mime_type': 'text/x-why', 'SCHILY.xattr.user.meta.colour': 'bläu', 'SCHILY.xattr.user.other': 'ignored' } },
        { name: long, data: 'long' },
        { name: 'ignored-here.txt', data: 'top level is inside the prefix' },
      ]),
    );
    const res = await raw('PUT', `/v1/AUTH_test/${c}/pre/?extract-archive=.tar.gz.`, { 'X-Auth-Token': tok, Accept: 'application/json', 'Transfer-Encoding': 'chunked' }, archive, true);
    expect(result(res)).toEqual({ 'Response Status': '201 Created', 'Response Body': '', 'Number Files Created': 3, Errors: [] });
    const y = await req('GET', `/v1/AUTH_test/${c}/pre/x/y.txt`);
    expect([y.status, y.body.toString(), y.headers['content-type']]).toEqual([200, 'why', 'text/x-why']);
    // The replayer decodes header bytes as UTF-8: the xattr's UTF-8 value arrived intact.
    expect(y.headers['x-object-meta-colour']).toBe('bläu');
    expect(y.headers['x-object-meta-other']).toBeUndefined();
    expect((await req('GET', `/v1/AUTH_test/${c}/pre/${long}`)).body.toString()).toBe('long');
    expect((await req('GET', `/v1/AUTH_test/${c}/pre/ignored-here.txt`)).status).toBe(200);
  });

  it('reports bad archives as 400 Invalid Tar File', async () => {
    const c = await container();
    const put = (query: string, body: Buffer) => raw('PUT', `/v1/AUTH_test/${c}?extract-archive=${query}`, { 'X-Auth-Token': tok, Accept: 'application/json' }, body);
    const cases: [string, Buffer, string][] = [
      // tarfile's nti: a checksum field that is not octal is 'invalid header'; one that is, but wrong, 'bad checksum'.
      ['tar', Buffer.from('this is not a tar file at all'.repeat(40)), 'Invalid Tar File: invalid header'],
      ['tar', Buffer.concat([Buffer.alloc(148), Buffer.from('0000777\0'), Buffer.alloc(356, 0x61)]), 'Invalid Tar File: bad checksum'],
      ['tar', Buffer.concat([Buffer.alloc(148), Buffer.from(' -0o1_7\0'), Buffer.alloc(356, 0x61)]), 'Invalid Tar File: bad checksum'],
      ['tar', Buffer.alloc(0), 'Invalid Tar File: empty file'],
      ['tar', Buffer.alloc(100, 1), 'Invalid Tar File: truncated header'],
      ['tar.gz', tar([{ name: 'a/b', data: 'x' }]), 'Invalid Tar File: not a gzip file'],
      ['tar', tar([{ name: 'a/b', data: 'x'.repeat(2000) }]).subarray(0, 1200), 'Invalid Tar File: unexpected end of data'],
      ['tar', Buffer.alloc(1024), 'Invalid Tar File: No Valid Files'],
    ];
    for (const [q, body, message] of cases) {
      expect(result(await put(q, body)), message).toMatchObject({ 'Response Status': '400 Bad Request', 'Response Body': message });
    }
    // At the account level, files outside any directory have no container: nothing to create.
    const top = await raw('PUT', '/v1/AUTH_test?extract-archive=tar', { 'X-Auth-Token': tok, Accept: 'application/json' }, tar([{ name: 'toplevel', data: 'x' }]));
    expect(result(top)).toMatchObject({ 'Response Status': '400 Bad Request', 'Response Body': 'Invalid Tar File: No Valid Files' });
    const bad = await put('zip', Buffer.from('x'));
    expect([bad.status, bad.body]).toEqual([400, 'Unsupported archive format']);
    // sluice: tar.bz2 (which Swift takes) is refused the same way: Node has no bzip2 decoder.
    for (const q of ['tar.bz2', '.tar.bz2']) {
      const bz2 = await put(q, Buffer.from('BZh91AY&SY'));
      expect([bz2.status, bz2.body], q).toEqual([400, 'Unsupported archive format']);
    }
    // Nothing was created from them.
    expect((await raw('GET', `/v1/AUTH_test/${c}`, { 'X-Auth-Token': tok })).status).toBe(204);
  });

  it('lists per-item failures: denied containers and objects, bad names, too many containers', async () => {
    // tester3 may write to one container (write ACL) but not create containers.
    const writable = await container({ 'X-Container-Write': 'test:tester3' });
    const closed = await container();
    const archive = tar([
      { name: `${writable}/ok`, data: 'ok' },
      { name: `${closed}/no`, data: 'no' },
      { name: `new${seq}x/no`, data: 'no' },
    ]);
    const res = result(await raw('PUT', '/v1/AUTH_test?extract-archive=tar', { 'X-Auth-Token': tok3, Accept: 'application/json' }, archive));
    expect(res).toEqual({
      'Response Status': '400 Bad Request',
      'Response Body': '',
      'Number Files Created': 1,
      Errors: [
        [`/v1/AUTH_test/${closed}`, '403 Forbidden'],
        [`${closed}/no`, '403 Forbidden'],
        [`/v1/AUTH_test/new${seq}x`, '403 Forbidden'],
        [`new${seq}x/no`, '403 Forbidden'],
      ],
    });
    expect((await req('GET', `/v1/AUTH_test/${writable}/ok`)).body.toString()).toBe('ok');

    const c = await container();
    const names = tar([
      { name: `${c}/${'z'.repeat(1100)}`, data: 'too long a name' },
      { name: '', rawName: Buffer.concat([Buffer.from(`${c}/bad`), Buffer.from([0xff, 0xfe])]), data: 'not UTF-8' },
      { name: 'ignored', pax: { path: `${c}/pax-named` }, data: 'pax path' },
      { name: `${c}/fine`, data: 'fine' },
    ]);
    const mixed = result(await raw('PUT', '/v1/AUTH_test?extract-archive=tar', { 'X-Auth-Token': tok, Accept: 'application/json' }, names));
    expect(mixed).toMatchObject({
      'Response Status': '400 Bad Request',
      'Number Files Created': 2,
      Errors: [
        [`${c}/${'z'.repeat(1100)}`, '400 Bad Request'],
        [`${c}/bad%FF%FE`, '412 Precondition Failed'],
      ],
    });
    expect((await req('GET', `/v1/AUTH_test/${c}/pax-named`)).body.toString()).toBe('pax path');

    const many = tar(Array.from({ length: 4 }, (_, i) => ({ name: `many${process.pid}x${seq}x${i}/o`, data: 'o' })));
    const tooMany = result(await raw('PUT', '/v1/AUTH_test?extract-archive=tar', { 'X-Auth-Token': tok, Accept: 'application/json' }, many));
    expect(tooMany).toMatchObject({ 'Response Status': '400 Bad Request', 'Response Body': 'More than 3 containers to create from tar.', 'Number Files Created': 3 });

    const unauth = result(await raw('PUT', '/v1/AUTH_test?extract-archive=tar', { 'X-Auth-Token': 'AUTH_tkbogus', Accept: 'application/json' }, tar([{ name: `${c}/x`, data: 'x' }])));
    expect(unauth).toMatchObject({ 'Response Status': '401 Unauthorized', 'Number Files Created': 0 });
  });
});
