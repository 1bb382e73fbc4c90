/**
 * The object-storage commands (`sluice stat|list|upload|download|delete|copy|post|tempurl|acl`)
 * against an in-process cluster with TempAuth: what they print (text and --json), what they
 * store (byte for byte, SLO and DLO segments), exit statuses, input refused before any request,
 * object names that would escape the download directory, and no secret in any output.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startCluster, type TestCluster } from '../../../src/testing/index';
import { send, Session } from '../../conformance/replayer';
import { cliRunner } from '../run-cli';

/** What the commands wrote to process.stderr (progress lines and per-object failures). */
const stderr: string[] = [];
const secrets = new Set<string>(['testing', 'testing3']);

const sluice = cliRunner(secrets);

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let cluster: TestCluster;
let owner: string[];
let ownerToken: string;
let dir: string;
const as = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => send(cluster.url, method, path, { 'X-Auth-Token': ownerToken, ...headers }, body);

beforeAll(async () => {
  cluster = await startCluster();
  owner = ['-A', `${cluster.url}/auth/v1.0`, '-U', 'test:tester', '-K', 'testing'];
  ownerToken = (await new Session(cluster.url).login('test:tester')).token;
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-client-'));
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  for (const name of ['ST_AUTH', 'ST_USER', 'ST_KEY', 'OS_AUTH_TOKEN', 'OS_STORAGE_URL', 'OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD']) vi.stubEnv(name, '');
  stderr.length = 0;
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('upload, list, stat, download', () => {
  it('uploads files and a directory under swiftclient names, lists and stats them', async () => {
    const src = join(dir, 'tree');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'alpha');
    writeFileSync(join(src, 'sub', 'b.json'), '{"b":1}');
    const up = await sluice('upload', 'docs', src, '--object-name', 'tree', '--json', ...owner);
    expect(up.code).toBe(0);
    const results = JSON.parse(up.out.join('\n')) as { object: string; bytes: number }[];
    expect(results.map((r) => r.object).sort()).toEqual(['tree/a.txt', 'tree/sub/b.json']);

    const list = await sluice('list', 'docs', ...owner);
    expect(list).toMatchObject({ code: 0, out: ['tree/a.txt', 'tree/sub/b.json'] });
    const rolled = await sluice('list', 'docs', '--prefix', 'tree/', '--delimiter', '/', ...owner);
    expect(rolled.out).toEqual(['tree/a.txt', 'tree/sub/']);

    const stat = await sluice('stat', 'docs', 'tree/sub/b.json', '--json', ...owner);
    expect(JSON.parse(stat.out.join('\n'))).toMatchObject({ container: 'docs', object: 'tree/sub/b.json', contentLength: 7, contentType: 'application/json', etag: createHash('md5').update('{"b":1}').digest('hex') });
    const account = await sluice('stat', ...owner);
    expect(account.code).toBe(0);
    expect(account.out).toContain('   Account: AUTH_test');
    expect(account.out.some((l) => /^\s*Containers: \d+$/.test(l))).toBe(true);
  });

  it('segmented uploads (SLO by default, DLO on request) round-trip byte for byte', async () => {
    const body = randomBytes(5 * 1024 * 1024 + 123);
    const file = join(dir, 'big.bin');
    writeFileSync(file, body);
    for (const [container, extra, kind] of [
      ['slo', [], 'slo'],
      ['dlo', ['--use-dlo'], 'dlo'],
    ] as const) {
      const up = await sluice('upload', container, file, '--object-name', 'big.bin', '-S', '1M', '--json', ...extra, ...owner);
      expect(up.code, up.err.join('\n')).toBe(0);
      const [r] = JSON.parse(up.out.join('\n')) as { largeObject: string; segmentsUploaded: number; segmentsSkipped: number }[];
      expect(r).toMatchObject({ largeObject: kind, segmentsUploaded: 6, segmentsSkipped: 0 });
      const segments = await sluice('list', `${container}_segments`, ...owner);
      expect(segments.out).toHaveLength(6);
      const out = join(dir, `${container}-copy.bin`);
      const down = await sluice('download', container, 'big.bin', '-o', out, ...owner);
      expect(down.code, down.err.join('\n')).toBe(0);
      expect(sha256(readFileSync(out))).toBe(sha256(body));
      const stat = await sluice('stat', container, 'big.bin', '--json', ...owner);
      expect(JSON.parse(stat.out.join('\n'))).toMatchObject({ largeObject: kind, contentLength: body.length });
      // Again: every segment is found stored with its MD5 and not sent.
      const again = await sluice('upload', container, file, '--object-name', 'big.bin', '-S', '1M', '--json', ...extra, ...owner);
      expect(JSON.parse(again.out.join('\n'))[0]).toMatchObject({ segmentsUploaded: 0, segmentsSkipped: 6 });
    }
  });

  it('downloads a container into a directory, refusing names that would leave it', async () => {
    expect((await as('PUT', '/v1/AUTH_test/esc')).status).toBe(201);
    for (const name of ['ok/one.txt', '../escaped.txt', 'a/../../escaped2.txt']) expect((await as('PUT', `/v1/AUTH_test/esc/${encodeURIComponent(name)}`, {}, `body of ${name}`)).status).toBe(201);
    const outDir = join(dir, 'dl', 'inner');
    const r = await sluice('download', 'esc', '-D', outDir, ...owner);
    expect(r.code).toBe(1);
    expect(readFileSync(join(outDir, 'ok', 'one.txt'), 'utf8')).toBe('body of ok/one.txt');
    expect(existsSync(join(dir, 'dl', 'escaped.txt'))).toBe(false);
    expect(existsSync(join(dir, 'escaped2.txt'))).toBe(false);
    expect(existsSync(join(dir, 'dl', 'escaped2.txt'))).toBe(false);
    expect(stderr.join('')).toMatch(/\.\.\/escaped\.txt: failed: refusing to write object "\.\.\/escaped\.txt" outside/);
    expect(stderr.join('')).toMatch(/^ok\/one\.txt \(18 B in [\d.]+ s, /m);
  });
});

describe('post, copy, delete', () => {
  it('sets metadata, copies with fresh metadata, deletes objects then the container', async () => {
    expect((await sluice('post', 'work', '-m', 'Color:blue', ...owner)).code).toBe(0);
    expect((await as('HEAD', '/v1/AUTH_test/work')).headers['x-container-meta-color']).toBe('blue');
    expect((await as('PUT', '/v1/AUTH_test/work/src.txt', { 'X-Object-Meta-Kind': 'draft' }, 'hello')).status).toBe(201);
    const copy = await sluice('copy', 'work', 'src.txt', '-d', '/work/dst.txt', '-M', '-m', 'Kind:final', ...owner);
    expect(copy).toMatchObject({ code: 0, out: ['work/src.txt copied to /work/dst.txt'] });
    const dst = await as('GET', '/v1/AUTH_test/work/dst.txt');
    expect(dst.body.toString()).toBe('hello');
    expect(dst.headers['x-object-meta-kind']).toBe('final');
    const del = await sluice('delete', 'work', ...owner);
    expect(del.code).toBe(0);
    expect(del.out.sort()).toEqual(['work', 'work/dst.txt', 'work/src.txt']);
    expect((await as('HEAD', '/v1/AUTH_test/work')).status).toBe(404);
  });

  it('refuses a container ACL typo before sending anything', async () => {
    expect((await as('PUT', '/v1/AUTH_test/acltypo')).status).toBe(201);
    const r = await sluice('post', 'acltypo', '-r', '.r:', ...owner);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/sluice: error: .*(host|referrer)/i);
    expect((await as('HEAD', '/v1/AUTH_test/acltypo')).headers['x-container-read']).toBeUndefined();
  });
});

describe('acl show, grant, revoke', () => {
  it('grants and revokes account access, and the grantee is let in and out', async () => {
    const tester3 = (await new Session(cluster.url).login('test:tester3')).token;
    const asTester3 = () => send(cluster.url, 'GET', '/v1/AUTH_test', { 'X-Auth-Token': tester3 });
    expect((await asTester3()).status).toBe(403);
    const grant = await sluice('acl', 'grant', 'read-only', 'test:tester3', '--json', ...owner);
    expect(grant.code).toBe(0);
    expect(JSON.parse(grant.out.join('\n'))).toEqual({ admin: [], 'read-write': [], 'read-only': ['test:tester3'] });
    expect((await asTester3()).status).toBe(200);
    const show = await sluice('acl', 'show', ...owner);
    expect(show.out.map((l) => l.trim())).toEqual(['admin: (none)', 'read-write: (none)', 'read-only: test:tester3']);
    expect((await sluice('acl', 'revoke', 'test:tester3', ...owner)).code).toBe(0);
    expect((await asTester3()).status).toBe(403);
    const bad = await sluice('acl', 'grant', 'owner', 'test:tester3', ...owner);
    expect(bad.code).toBe(2);
  });

  it('adds and removes a container reader', async () => {
    expect((await as('PUT', '/v1/AUTH_test/shared-c')).status).toBe(201);
    expect((await sluice('acl', 'grant', '--container', 'shared-c', '--read', 'test:tester3', ...owner)).code).toBe(0);
    expect((await as('HEAD', '/v1/AUTH_test/shared-c')).headers['x-container-read']).toBe('test:tester3');
    const shown = await sluice('acl', 'show', 'shared-c', '--json', ...owner);
    expect(JSON.parse(shown.out.join('\n'))).toEqual({ read: ['test:tester3'], write: [] });
    expect((await sluice('acl', 'revoke', 'test:tester3', '--container', 'shared-c', ...owner)).code).toBe(0);
    expect((await as('HEAD', '/v1/AUTH_test/shared-c')).headers['x-container-read']).toBeUndefined();
  });
});

describe('tempurl and exit statuses', () => {
  it('prints the URL python-swiftclient prints', async () => {
    const args = ['GET', '3600', '/v1/AUTH_test/c/o.txt', 'mykey'];
    const expiry = String(Math.floor(Date.now() / 1000) + 7200);
    const r = await sluice('tempurl', '--absolute', '--digest', 'sha512', 'GET', expiry, '/v1/AUTH_test/c/o.txt', 'mykey');
    const py = execFileSync('/usr/bin/python3', ['-c', `from swiftclient.utils import generate_temp_url as g; print(g('/v1/AUTH_test/c/o.txt', ${expiry}, 'mykey', 'GET', absolute=True, digest='sha512'))`], { encoding: 'utf8' }).trim();
    expect(r).toMatchObject({ code: 0, out: [py] });
    const rel = await sluice('tempurl', ...args);
    expect(rel.out[0]).toMatch(/^\/v1\/AUTH_test\/c\/o\.txt\?temp_url_sig=[0-9a-f]{64}&temp_url_expires=\d+$/);
    expect((await sluice('tempurl', 'GET', 'soon', '/v1/AUTH_test/c/o', 'k')).code).toBe(2);
  });

  it('1 for a failed request, 4 for failed authentication, 2 for usage', async () => {
    const missing = await sluice('stat', 'no-such-container', ...owner);
    expect(missing.code).toBe(1);
    expect(missing.err.join('\n')).toMatch(/404/);
    const wrong = await sluice('stat', '-A', `${cluster.url}/auth/v1.0`, '-U', 'test:tester', '-K', 'not-the-key');
    expect(wrong.code).toBe(4);
    expect(wrong.err.join('\n')).toMatch(/authentication failed \(401\)/);
    expect((await sluice('upload', 'c')).code).toBe(2);
    expect((await sluice('stat')).err.join('\n')).toMatch(/no credentials/);
  });
});
