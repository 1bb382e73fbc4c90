/**
 * container_sync: the realms file (parsing, case, [DEFAULT], reloading on mtime, bad files),
 * the request signature and the realm checks of X-Container-Sync-To against Swift's own
 * ContainerSyncRealms and validate_sync_to (Debian's python3-swift), then through an
 * in-process cluster (container_sync before tempauth, as in Swift's sample pipeline): signed
 * writes with key and key2, Swift's 401 for every other X-Container-Sync-Auth, the client's
 * X-Timestamp put back for a synced write, allow_full_urls, the versioning conflict, and /info.
 *
 * The signature and 401 cases were first compared with a real Swift 2.30.1 proxy running
 * container_sync with the same realms file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { ContainerSyncRealms, containerSyncSignature, parseRealms, realmSyncToError } from '../../src/common/container-sync-realms';
import { containerSync, parseContainerSyncOptions } from '../../src/middleware/container-sync';
import { ConfigError } from '../../src/proxy/config';
import { defineFilter, registerFilter, type FilterContext } from '../../src/proxy/filter';
import { send, Session } from '../conformance/replayer';
import { proxyConf } from '../helpers/proxy-conf';

const PY = '/usr/bin/python3';
const probe = spawnSync(PY, ['-c', 'import swift.common.container_sync_realms, swift.common.utils'], { encoding: 'utf8' });
const haveSwift = probe.status === 0;
if (!haveSwift && process.env.CI) throw new Error(`Swift's container_sync_realms is required in CI: ${probe.stderr?.trim() || `${PY} missing`}`);
const skipReason = haveSwift ? '' : `(skipped: ${PY} cannot import swift.common.container_sync_realms)`;

const REALMS = `[DEFAULT]
mtime_check_interval = 0

[realm1]
key = realm1key
key2 = realm1key2
cluster_clustername1 = https://host1/v1/
cluster_ClusterName2 = https://host2/v1/

[Realm2]
key = realm2key
cluster_c3 = http://127.0.0.1:8080/v1/

[nokey]
cluster_x = http://x/v1/

[noclusters]
key = k
`;

const dirs: string[] = [];
/** A swift_dir holding `text` as container-sync-realms.conf (none for null). */
function realmsDir(text: string | null = REALMS): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-csync-'));
  dirs.push(dir);
  if (text !== null) writeFileSync(join(dir, 'container-sync-realms.conf'), text);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs a Python script on `input` without blocking the event loop (the cluster runs in this process). */
function runPython(script: string, input: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(PY, ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    proc.on('error', reject);
    proc.on('close', (status) => resolve({ status, stdout, stderr }));
    proc.stdin.end(input);
  });
}

/** A client's X-Container-Sync-Auth, as Swift's sync daemon signs it. */
function syncAuth(realm: string, key: string, method: string, path: string, ts: string, nonce = 'abc123', userKey = 'userkey'): string {
  const sig = createHmac('sha1', key).update(`${method}\n${path}\n${ts}\n${nonce}\n${userKey}`).digest('hex');
  return `${realm} ${nonce} ${sig}`;
}

describe('container-sync-realms.conf', () => {
  it('reads realms and clusters case-insensitively, [DEFAULT] included', () => {
    const { realms, interval } = parseRealms('[DEFAULT]\nkey2 = shared2\nmtime_check_interval = 1.5\n[a]\nkey = ka\ncluster_One = http://one/v1/\nother = x\n[B]\nkey = %(key2)s-b\n', 'realms.conf');
    expect(interval).toBe(1.5);
    expect([...realms.keys()]).toEqual(['A', 'B']);
    expect(realms.get('A')).toEqual({ key: 'ka', key2: 'shared2', clusters: new Map([['ONE', 'http://one/v1/']]) });
    expect(realms.get('B')?.key).toBe('shared2-b');
    const r = new ContainerSyncRealms(join(realmsDir(), 'container-sync-realms.conf'));
    expect(r.realms()).toEqual(['REALM1', 'REALM2', 'NOKEY', 'NOCLUSTERS']);
    expect([r.key('REALM1'), r.key2('Realm1'), r.key('nokey'), r.key('absent')]).toEqual(['realm1key', 'realm1key2', undefined, undefined]);
    expect(r.clusters('realm1')).toEqual(['CLUSTERNAME1', 'CLUSTERNAME2']);
    expect(r.endpoint('realm2', 'C3')).toBe('http://127.0.0.1:8080/v1/');
  });

  it('a missing file is no realms; a bad one is a one-line start-up error naming file and line', () => {
    expect(new ContainerSyncRealms(join(realmsDir(null), 'container-sync-realms.conf')).realms()).toEqual([]);
    const bad = [
      ['[r]\nkey = k\nthis line is not an option\n', /container-sync-realms\.conf:3: not a \[section\]/],
      ['key = k\n[r]\n', /container-sync-realms\.conf:1: a \[section\] header must come first/],
      ['[r]\nkey = a\nkey = b\n', /container-sync-realms\.conf:3: option "key" appears twice/],
      ['[DEFAULT]\nmtime_check_interval = soon\n[r]\nkey = k\n', /mtime_check_interval must be a number of seconds, got "soon"/],
      ['[r]\nkey = %(nope)s\n', /nope/],
    ] as const;
    for (const [text, message] of bad) {
      const dir = realmsDir(text);
      let err: unknown;
      try {
        parseContainerSyncOptions({ swift_dir: dir });
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('\n');
    }
    const dir = realmsDir(null);
    writeFileSync(join(dir, 'container-sync-realms.conf'), Buffer.from([0x5b, 0x72, 0x5d, 0x0a, 0x6b, 0x3d, 0xff]));
    expect(() => parseContainerSyncOptions({ swift_dir: dir })).toThrow(/not UTF-8/);
  });

  it('reloads when the mtime changes, at most every mtime_check_interval seconds; a bad reload keeps the realms', () => {
    const dir = realmsDir('[DEFAULT]\nmtime_check_interval = 10\n[one]\nkey = k1\n');
    const file = join(dir, 'container-sync-realms.conf');
    let now = 1000;
    const errors: string[] = [];
    const r = new ContainerSyncRealms(file, { now: () => now, logger: { debug: () => undefined, error: (m) => errors.push(m) } });
    expect(r.realms()).toEqual(['ONE']);
    writeFileSync(file, '[DEFAULT]\nmtime_check_interval = 10\n[two]\nkey = k2\n');
    utimesSync(file, 2000, 2000);
    now = 1005;
    expect(r.realms()).toEqual(['ONE']);
    now = 1010;
    expect(r.realms()).toEqual(['TWO']);
    writeFileSync(file, '[broken\n');
    utimesSync(file, 3000, 3000);
    now = 1020;
    expect(r.realms()).toEqual(['TWO']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^Could not load '.*container-sync-realms\.conf': /);
  });

  it('current = //REALM/CLUSTER: upper case; a malformed or unknown one is logged as in Swift', () => {
    const dir = realmsDir();
    expect(parseContainerSyncOptions({ swift_dir: dir, current: '//realm1/clustername2/' }).current).toEqual({ realm: 'REALM1', cluster: 'CLUSTERNAME2' });
    expect(parseContainerSyncOptions({ swift_dir: dir }).current).toBeUndefined();
    const errors: string[] = [];
    const logger = { child: () => logger, error: (m: string) => errors.push(m), debug: () => undefined };
    const ctx = { logger, state: { info: {} } } as unknown as FilterContext;
    for (const current of ['//realm1', '//realm1/nope', '//noclusters/x', '//nokey/x']) containerSync(parseContainerSyncOptions({ swift_dir: dir, current }), ctx);
    expect(errors).toEqual(['Invalid current //REALM/CLUSTER (//realm1)', 'Unknown current //REALM/CLUSTER (//REALM1/NOPE)', 'Unknown current //REALM/CLUSTER (//NOCLUSTERS/X)']);
  });

  it('realm values of X-Container-Sync-To: format, realm key, cluster', () => {
    const r = new ContainerSyncRealms(join(realmsDir(), 'container-sync-realms.conf'));
    expect(realmSyncToError('//realm1/clustername1/AUTH_a/c/', r)).toBeUndefined();
    expect(realmSyncToError('//REALM1/CLUSTERNAME2/a/c', r)).toBeUndefined();
    expect(realmSyncToError('//realm1/clustername1/a', r)).toBe("Invalid X-Container-Sync-To format '//realm1/clustername1/a'");
    expect(realmSyncToError('//nope/c/a/c', r)).toBe("No realm key for 'nope'");
    expect(realmSyncToError('//nokey/x/a/c', r)).toBe("No realm key for 'nokey'");
    expect(realmSyncToError('//realm1/other/a/c', r)).toBe("No cluster endpoint for 'realm1' 'other'");
    expect(realmSyncToError('http://127.0.0.1/v1/a/c', r)).toBeNull();
    expect(realmSyncToError('//', r)).toBeNull();
  });
});

describe('against Swift\'s container_sync_realms', () => {
  it.skipIf(!haveSwift)(`signatures and realm sync-to checks are Swift's ${skipReason}`, async () => {
    const dir = realmsDir();
    const sigCases = [
      ['PUT', '/v1/AUTH_test/c/o', '1700000000.00000', 'n1', 'realm1key', 'userkey'],
      ['DELETE', '/v1/AUTH_test/c/%C3%A9%20x', '0', 'nonce with spaces?', 'ké', 'usér'],
      ['POST', '/v1/a/c/o', '1.5', '\u00e9\u00ff', 'k', '\u4e2d'],
    ];
    const syncTo = ['//realm1/clustername1/a/c', '//realm1/clustername1/a/c/', '//Realm2/c3/a/c', '//realm1/x/a/c', '//r/c/a', '//nope/c/a/c', '//nokey/x/a/c', "//it's/c/a/c", '//\u00e9/c/a/c'];
    const script = `
import json, sys
from swift.common.container_sync_realms import ContainerSyncRealms
from swift.common.utils import get_logger, validate_sync_to
q = json.load(sys.stdin)
r = ContainerSyncRealms(q['file'], get_logger({}))
print(json.dumps({
  'sigs': [r.get_sig(*c) for c in q['sigs']],
  'syncTo': [validate_sync_to(v, [], r)[0] for v in q['syncTo']],
}))`;
    const out = await runPython(script, JSON.stringify({ file: join(dir, 'container-sync-realms.conf'), sigs: sigCases, syncTo }));
    expect(out.status, out.stderr).toBe(0);
    const swift = JSON.parse(out.stdout) as { sigs: string[]; syncTo: (string | null)[] };
    // The nonce is a header value: one character per byte on both sides (Swift's WSGI string).
    expect(sigCases.map(([m, p, t, n, k, u]) => containerSyncSignature(m!, p!, t!, n!, k!, u!))).toEqual(swift.sigs);
    const r = new ContainerSyncRealms(join(dir, 'container-sync-realms.conf'));
    expect(syncTo.map((v) => realmSyncToError(v, r) ?? null)).toEqual(swift.syncTo);
  });
});

// ---------------------------------------------------------------------------------------------
// Through a cluster

/** What reached the filters after container_sync and tempauth, per request path. */
const seen = new Map<string, Record<string, string>>();
registerFilter(
  defineFilter({
    name: 'csync_probe',
    options: () => ({}),
    create: () => async (c, next) => {
      const headers = c.get('headers');
      seen.set(new URL(c.req.url).pathname, Object.fromEntries(headers.entries()));
      // Sets the sysmeta object versioning would (a client cannot send sysmeta past the gatekeeper).
      const versions = headers.get('x-test-versions-container');
      if (versions !== undefined) headers.set('x-container-sysmeta-versions-container', versions);
      await next();
    },
  }),
);

const PIPELINE = ['catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', 'cache', 'listing_formats', 'container_sync', 'tempauth', 'csync_probe', 'proxy-logging'];
const TEMPAUTH = 'user_test_tester = testing .admin\n';
const A = '/v1/AUTH_test';
const TS = '1700000000.12345';
const UNAUTHORIZED = 'X-Container-Sync-Auth header not valid; contact cluster operator for support.';

let cluster: TestCluster;
let owner: string;
let realmsFile: string;

beforeAll(async () => {
  const dir = realmsDir();
  realmsFile = join(dir, 'container-sync-realms.conf');
  const sections = { tempauth: TEMPAUTH, container_sync: `swift_dir = ${dir}\ncurrent = //realm1/clustername1\n`, csync_probe: 'use = egg:sluice#csync_probe' };
  cluster = await startCluster({ proxyConfig: proxyConf({ pipeline: PIPELINE, sections }) });
  owner = (await new Session(cluster.url).login('test:tester')).token;
  for (const [c, headers] of [['sync', { 'X-Container-Sync-Key': 'userkey' }], ['nokey', {}]] as const) {
    expect((await send(cluster.url, 'PUT', `${A}/${c}`, { 'X-Auth-Token': owner, ...headers })).status).toBe(201);
  }
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('signed sync requests', () => {
  it('accepts the realm key and key2 (realm in any case), and puts the X-Timestamp back', async () => {
    const path = `${A}/sync/o1`;
    // The second PUT carries the same timestamp: the object servers hold it already (409), which
    // Swift's proxy answers 202, as it does for a sync that repeats a row.
    for (const [realm, key, status] of [['realm1', 'realm1key', 201], ['REALM1', 'realm1key2', 202]] as const) {
      const res = await send(cluster.url, 'PUT', path, { 'X-Container-Sync-Auth': syncAuth(realm, key, 'PUT', path, TS), 'X-Timestamp': TS }, 'synced');
      expect(res.status).toBe(status);
      expect(seen.get(path)?.['x-timestamp']).toBe(TS);
      expect(seen.get(path)).not.toHaveProperty('x-backend-inbound-x-timestamp');
    }
    // The object written carries the synced timestamp (swob's ensure_x_timestamp).
    const get = await send(cluster.url, 'GET', path, { 'X-Auth-Token': owner });
    expect([get.status, get.body.toString(), get.headers['x-timestamp']]).toEqual([200, 'synced', TS]);
    // A DELETE older than the object loses (409); a newer one deletes.
    const older = '1699999999.00000';
    const stale = await send(cluster.url, 'DELETE', path, { 'X-Container-Sync-Auth': syncAuth('realm1', 'realm1key', 'DELETE', path, older), 'X-Timestamp': older });
    expect(stale.status).toBe(409);
    const newer = '1700000001.00000';
    const del = await send(cluster.url, 'DELETE', path, { 'X-Container-Sync-Auth': syncAuth('realm1', 'realm1key', 'DELETE', path, newer), 'X-Timestamp': newer });
    expect(del.status).toBe(204);
    expect((await send(cluster.url, 'GET', path, { 'X-Auth-Token': owner })).status).toBe(404);
  });

  it('answers 400 to a synced X-Timestamp that is not a timestamp, and stores nothing', async () => {
    const path = `${A}/sync/badts`;
    for (const ts of ['abc', '-1', '1e10']) {
      const res = await send(cluster.url, 'PUT', path, { 'X-Container-Sync-Auth': syncAuth('realm1', 'realm1key', 'PUT', path, ts), 'X-Timestamp': ts }, 'x');
      expect([res.status, res.body.toString()], ts).toEqual([400, `X-Timestamp should be a UNIX timestamp float value; was '${ts}'`]);
    }
    expect((await send(cluster.url, 'HEAD', path, { 'X-Auth-Token': owner })).status).toBe(404);
  });

  it('signs the path as Swift quotes it, and X-Timestamp 0 when none is sent', async () => {
    const signed = `${A}/sync/%C3%A9%20x~y`;
    const res = await send(cluster.url, 'PUT', `${A}/sync/%c3%a9%20x%7Ey`, { 'X-Container-Sync-Auth': syncAuth('realm2', 'realm2key', 'PUT', signed, TS), 'X-Timestamp': TS }, 'q');
    expect(res.status).toBe(201);
    const noTs = await send(cluster.url, 'PUT', `${A}/sync/o2`, { 'X-Container-Sync-Auth': syncAuth('realm1', 'realm1key', 'PUT', `${A}/sync/o2`, '0') }, 'q');
    expect(noTs.status).toBe(201);
  });

  it('answers Swift\'s 401 to every other X-Container-Sync-Auth', async () => {
    const path = `${A}/sync/o3`;
    const cases: { method?: string; path?: string; auth: string; ts?: string }[] = [
      { auth: syncAuth('realm1', 'wrong', 'PUT', path, TS) },
      { auth: syncAuth('realm1', 'realm1key', 'PUT', `${A}/sync/other`, TS) },
      { auth: syncAuth('realm1', 'realm1key', 'PUT', path, TS).slice(0, -1) },
      { auth: syncAuth('realm1', 'realm1key', 'PUT', path, '1700000000.00000') },
      { auth: 'realm1 abc123' },
      { auth: 'realm1 a b c' },
      { auth: syncAuth('nope', 'realm1key', 'PUT', path, TS) },
      { auth: syncAuth('nokey', '', 'PUT', path, TS) },
      { path: `${A}/nokey/o`, auth: syncAuth('realm1', 'realm1key', 'PUT', `${A}/nokey/o`, TS, 'abc123', '') },
      { method: 'DELETE', path: `${A}/missing/o`, auth: syncAuth('realm1', 'realm1key', 'DELETE', `${A}/missing/o`, TS) },
      // Swift fails with a 500 on an X-Timestamp that is not ASCII.
      { auth: syncAuth('realm1', 'realm1key', 'PUT', path, '\u00e9'), ts: '\u00e9' },
    ];
    for (const { method = 'PUT', path: p = path, auth, ts = TS } of cases) {
      const res = await send(cluster.url, method, p, { 'X-Container-Sync-Auth': auth, 'X-Timestamp': ts }, method === 'PUT' ? 'x' : undefined);
      expect([res.status, res.body.toString(), res.headers['content-type'], res.headers['www-authenticate']], auth).toEqual([401, UNAUTHORIZED, 'text/plain', 'SwiftContainerSync realm="AUTH_test"']);
    }
    const head = await send(cluster.url, 'HEAD', path, { 'X-Container-Sync-Auth': 'realm1 n sig' });
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([401, String(UNAUTHORIZED.length), 0]);
    expect((await send(cluster.url, 'HEAD', path, { 'X-Auth-Token': owner })).status).toBe(404);
  });

  it('leaves requests without X-Container-Sync-Auth to the auth filter, X-Timestamp set aside', async () => {
    const res = await send(cluster.url, 'PUT', `${A}/sync/o4`, { 'X-Timestamp': TS }, 'x');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Swift realm="AUTH_test"');
    const owned = await send(cluster.url, 'PUT', `${A}/sync/o4`, { 'X-Auth-Token': owner, 'X-Timestamp': TS }, 'x');
    expect(owned.status).toBe(201);
    expect(seen.get(`${A}/sync/o4`)).toMatchObject({ 'x-backend-inbound-x-timestamp': TS });
    expect(seen.get(`${A}/sync/o4`)).not.toHaveProperty('x-timestamp');
  });
});

describe('X-Container-Sync-To', () => {
  it('is refused on a container with object versioning', async () => {
    expect((await send(cluster.url, 'PUT', `${A}/versioned`, { 'X-Auth-Token': owner, 'X-Test-Versions-Container': 'v' })).status).toBe(201);
    for (const method of ['POST', 'PUT']) {
      const res = await send(cluster.url, method, `${A}/versioned`, { 'X-Auth-Token': owner, 'X-Container-Sync-To': '//realm1/clustername1/AUTH_x/c' });
      expect([res.status, res.body.toString(), res.headers['content-type']]).toEqual([400, 'Cannot configure container sync on a container with object versioning configured.', 'text/html; charset=UTF-8']);
    }
    expect((await send(cluster.url, 'POST', `${A}/versioned`, { 'X-Auth-Token': owner, 'X-Container-Meta-A': 'b' })).status).toBe(204);
  });

  it('full URLs go on to the container server while allow_full_urls is true', async () => {
    const ok = await send(cluster.url, 'POST', `${A}/sync`, { 'X-Auth-Token': owner, 'X-Container-Sync-To': 'http://127.0.0.1/v1/AUTH_x/c' });
    expect(ok.status).toBe(204);
    const bad = await send(cluster.url, 'POST', `${A}/sync`, { 'X-Auth-Token': owner, 'X-Container-Sync-To': 'ftp://127.0.0.1/v1/AUTH_x/c' });
    expect([bad.status, bad.body.toString()]).toEqual([400, 'Invalid scheme \'ftp\' in X-Container-Sync-To, must be "//", "http", or "https".']);
  });
});

describe('/info', () => {
  it('lists the realms with clusters, the current one marked, read again on each /info', async () => {
    const info = async () => (JSON.parse((await send(cluster.url, 'GET', '/info', {})).body.toString()) as Record<string, unknown>)['container_sync'];
    expect(await info()).toEqual({ realms: { REALM1: { clusters: { CLUSTERNAME1: { current: true }, CLUSTERNAME2: {} } }, REALM2: { clusters: { C3: {} } }, NOKEY: { clusters: { X: {} } } } });
    writeFileSync(realmsFile, `${REALMS}\n[added]\nkey = a\ncluster_new = http://new/v1/\n`);
    utimesSync(realmsFile, Date.now() / 1000 + 5, Date.now() / 1000 + 5);
    expect(await info()).toMatchObject({ realms: { ADDED: { clusters: { NEW: {} } } } });
    writeFileSync(realmsFile, REALMS);
    utimesSync(realmsFile, Date.now() / 1000 + 10, Date.now() / 1000 + 10);
  });
});

describe('allow_full_urls = false', () => {
  it('refuses a URL in X-Container-Sync-To on any request, lets realm values through', async () => {
    const dir = realmsDir();
    const sections = { tempauth: TEMPAUTH, container_sync: `swift_dir = ${dir}\nallow_full_urls = false\n`, csync_probe: 'use = egg:sluice#csync_probe' };
    const c2 = await startCluster({ proxyConfig: proxyConf({ pipeline: PIPELINE, sections }) });
    try {
      const tok = (await new Session(c2.url).login('test:tester')).token;
      for (const [method, path] of [['PUT', `${A}/fu`], ['POST', `${A}/fu`], ['GET', `${A}/fu/o`]]) {
        const res = await send(c2.url, method!, path!, { 'X-Auth-Token': tok, 'X-Container-Sync-To': 'https://127.0.0.1/v1/AUTH_x/c' });
        expect([res.status, res.body.toString()]).toEqual([400, 'Full URLs are not allowed for X-Container-Sync-To values. Only realm values of the format //realm/cluster/account/container are allowed.\n']);
      }
      seen.delete(`${A}/fu2`);
      await send(c2.url, 'PUT', `${A}/fu2`, { 'X-Auth-Token': tok, 'X-Container-Sync-To': '//realm1/clustername1/AUTH_x/c' });
      expect(seen.get(`${A}/fu2`)?.['x-container-sync-to']).toBe('//realm1/clustername1/AUTH_x/c');
    } finally {
      await c2.stop();
    }
  }, 30_000);
});
