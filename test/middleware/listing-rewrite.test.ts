/**
 * The JSON listing's way out (src/middleware/listing-rewrite.ts and listing_formats): a listing
 * no entry of which slo or symlink would rewrite is not parsed, and goes to a client asking for
 * JSON as the container server wrote it. That is only right because it is what Swift's
 * json.loads/json.dumps round trip gives: checked here on generated listings and on a cluster's
 * own listings, whose entries carry non-ASCII names, SLO manifests and symlinks.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pyJsonDumps } from '../../src/compat/json';
import { hasHashWithParams } from '../../src/middleware/listing-rewrite';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { send, Session } from '../conformance/replayer';
import { call } from '../proxy/helpers';
import { backendPath } from '../../src/common/backend-client';

const PLAIN = 'd41d8cd98f00b204e9800998ecf8427e';
const entry = (name: string, hash: string) => ({ hash, last_modified: '2026-12-04T10:00:00.000000', bytes: 0, name, content_type: 'text/plain' });
const body = (listing: unknown) => Buffer.from(pyJsonDumps(listing), 'utf8');

describe('hasHashWithParams', () => {
  it('finds no entry to rewrite in a listing of plain MD5 digests, subdirs and names that look like keys', () => {
    expect(hasHashWithParams(body([]))).toBe(false);
    expect(hasHashWithParams(body([entry('a', PLAIN), { subdir: 'b/' }, entry('"hash": "x; slo_etag=1"', PLAIN), entry('é ☃ \u0000', PLAIN)]))).toBe(false);
  });

  it('finds slo_etag and symlink parameters, stray whitespace, and any hash that is not a lower-case digest', () => {
    for (const hash of [`${PLAIN}; slo_etag=abc`, `${PLAIN}; symlink_target=c/o`, ` ${PLAIN}`, `${PLAIN} `, PLAIN.toUpperCase(), PLAIN.slice(1), `${PLAIN}0`, '']) {
      expect(hasHashWithParams(body([entry('a', PLAIN), entry('b', hash)])), JSON.stringify(hash)).toBe(true);
    }
    expect(hasHashWithParams(Buffer.from('[{"hash":"x"}]'))).toBe(true);
  });

  it('agrees with the parsed listing on generated listings', () => {
    const hex = fc.stringMatching(/^[0-9a-f]{32}$/);
    const hash = fc.oneof(hex, hex.map((h) => `${h}; slo_etag=${h}`), fc.string(), fc.constant(` ${PLAIN}`));
    const item = fc.oneof(fc.record({ name: fc.string({ unit: 'binary' }), hash }).map(({ name, hash }) => entry(name, hash)), fc.record({ subdir: fc.string({ unit: 'binary' }) }));
    fc.assert(
      fc.property(fc.array(item, { maxLength: 20 }), (listing) => {
        const expected = listing.some((i) => 'hash' in i && !/^[0-9a-f]{32}$/.test(i.hash));
        expect(hasHashWithParams(body(listing))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('a JSON listing through the proxy', () => {
  let cluster: TestCluster;
  let token: string;
  const c = `lr${process.pid}`;
  const req = (method: string, path: string, headers: Record<string, string> = {}, data?: string) => send(cluster.url, method, path, { 'X-Auth-Token': token, ...headers }, data);

  beforeAll(async () => {
    cluster = await startCluster();
    token = (await new Session(cluster.url).login('test:tester')).token;
    expect((await req('PUT', `/v1/AUTH_test/${c}`)).status).toBe(201);
    for (const name of ['plain', 'caf%C3%A9', '%E2%98%83/snow', 'quote%22back%5Cslash']) expect((await req('PUT', `/v1/AUTH_test/${c}/${name}`, {}, 'x')).status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  const containerServerJson = async (): Promise<Buffer> => {
    const ring = cluster.proxy.state.rings.container;
    const part = ring.getPart('AUTH_test', c);
    const [node] = ring.getPartNodes(part);
    const res = await call(`http://${node!.ip}:${node!.port}`, 'GET', `${backendPath(node!, part, `/AUTH_test/${c}`)}?format=json`);
    expect(res.status).toBe(200);
    return res.raw;
  };

  it('is the container server\'s bytes, which are their own json.loads/json.dumps round trip', async () => {
    const r = await req('GET', `/v1/AUTH_test/${c}?format=json`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    const served = r.body;
    const stored = await containerServerJson();
    expect(served.equals(stored)).toBe(true);
    expect(served.toString('utf8')).toBe(pyJsonDumps(JSON.parse(served.toString('utf8'))));
    expect(JSON.parse(served.toString('utf8')).map((e: { name: string }) => e.name)).toEqual(['caf\u00e9', 'plain', 'quote"back\\slash', '\u2603/snow']);
  });

  it('still has symlink and slo entries rewritten once any entry has hash parameters', async () => {
    expect((await req('PUT', `/v1/AUTH_test/${c}/zlink`, { 'X-Symlink-Target': `${c}/plain` })).status).toBe(201);
    const manifest = JSON.stringify([{ path: `/${c}/plain`, etag: null, size_bytes: null }]);
    expect((await req('PUT', `/v1/AUTH_test/${c}/zslo?multipart-manifest=put`, {}, manifest)).status).toBe(201);
    const r = await req('GET', `/v1/AUTH_test/${c}?format=json`);
    expect(r.status).toBe(200);
    const listing = JSON.parse(r.body.toString('utf8')) as Record<string, unknown>[];
    const link = listing.find((e) => e.name === 'zlink')!;
    expect(link.symlink_path).toBe(`/v1/AUTH_test/${c}/plain`);
    expect(String(link.hash)).not.toContain('symlink_target');
    const slo = listing.find((e) => e.name === 'zslo')!;
    expect(String(slo.slo_etag)).toMatch(/^"[0-9a-f]{32}"$/);
    expect(String(slo.hash)).not.toContain('slo_etag');
    // The plain entries are as the container server has them.
    const stored = JSON.parse((await containerServerJson()).toString('utf8')) as Record<string, unknown>[];
    expect(listing.find((e) => e.name === 'plain')).toEqual(stored.find((e) => e.name === 'plain'));
  });
});
