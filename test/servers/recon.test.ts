/**
 * The recon filter of sluice's storage servers (servers/common/recon.ts) against Swift's own:
 * the JSON of each endpoint is compared with what swift/common/middleware/recon.py answers for
 * the same devices, swift_dir and recon cache, and the real `swift-recon` command is run
 * against the three servers (found through rings in a temp swift_dir) and must print every
 * section with the figures of this test's state: one quarantined object, one async pending
 * after a failed container update, replication stats from a recon cache written by Swift's
 * dump_recon_cache, a drive without `.ismount` reported unmounted, the other's disk usage.
 */
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAccountServer } from '../../servers/account/server';
import { startContainerServer } from '../../servers/container/server';
import { startObjectServer, type RunningObjectServer } from '../../servers/object/server';
import type { RunningServer } from '../../servers/common/http';
import { buildRing, ringFileName, writeRingFile } from '../../src/common/ring';
import { freePort } from '../helpers/memcached';
import { req, walk } from './object/helpers';

const run = promisify(execFile);
const SWIFT_RECON = '/usr/bin/swift-recon';
const PYTHON = '/usr/bin/python3';
const haveSwift = existsSync(SWIFT_RECON) && existsSync('/usr/lib/python3/dist-packages/swift/common/middleware/recon.py');
if (!haveSwift && process.env.CI) throw new Error(`${SWIFT_RECON} (Debian's swift package) is required in CI`);
const skipReason = `(skipped: ${SWIFT_RECON} and python3-swift are not installed: apt-get install swift)`;

let root: string;
let swiftDir: string;
let devices: string;
let cacheDir: string;
let account: RunningServer;
let container: RunningServer;
let object: RunningObjectServer;

/** Swift's ReconMiddleware on the same configuration: path → [status, body]. */
async function swiftAnswers(paths: string[]): Promise<Record<string, [number, string]>> {
  const script = `
import json, sys
from swift.common.swob import Request
from swift.common.middleware.recon import ReconMiddleware
conf = json.loads(sys.argv[1])
m = ReconMiddleware(None, conf)
out = {}
for p in conf['paths']:
    r = Request.blank(p).get_response(m)
    out[p] = [r.status_int, r.body.decode()]
print(json.dumps(out))
`;
  const conf = { devices, swift_dir: swiftDir, recon_cache_path: cacheDir, paths };
  const { stdout } = await run(PYTHON, ['-c', script, JSON.stringify(conf)], { timeout: 60_000 });
  return JSON.parse(stdout) as Record<string, [number, string]>;
}

/** Writes recon cache files (name → entries) with Swift's own dump_recon_cache, as its daemons do. */
async function dumpReconCaches(files: Record<string, unknown>): Promise<void> {
  const script = `
import json, os, sys, logging
from swift.common.utils import dump_recon_cache
for name, entries in json.loads(sys.argv[1]).items():
    dump_recon_cache(entries, os.path.join(sys.argv[2], name), logging.getLogger())
`;
  await run(PYTHON, ['-c', script, JSON.stringify(files), cacheDir], { timeout: 60_000 });
}

async function swiftRecon(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run(SWIFT_RECON, [...args, '--swiftdir', swiftDir, '--timeout', '20'], { timeout: 120_000 });
  return stdout + stderr;
}

const get = async (server: RunningServer, path: string, method = 'GET') => {
  const r = await req(server.url, method, path);
  return { status: r.status, type: r.headers['content-type'], text: r.body.toString() };
};

describe.skipIf(!haveSwift)('recon on the storage servers', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sluice-recon-'));
    swiftDir = join(root, 'etc');
    devices = join(root, 'srv');
    cacheDir = join(root, 'cache');
    for (const d of [swiftDir, join(devices, 'sda'), join(devices, 'sdb'), cacheDir]) mkdirSync(d, { recursive: true });
    // sda counts as mounted the way a SAIO's loopback dirs do; sdb does not.
    writeFileSync(join(devices, 'sda', '.ismount'), '');
    writeFileSync(join(swiftDir, 'swift.conf'), '[swift-hash]\nswift_hash_path_prefix = recon-prefix\nswift_hash_path_suffix = recon-suffix\n\n[storage-policy:0]\nname = gold\ndefault = yes\n');
    const opts = { devices, swiftDir, reconCachePath: cacheDir };
    account = await startAccountServer(opts);
    container = await startContainerServer({ ...opts, updaterInterval: 0 });
    object = await startObjectServer({ ...opts, updaterInterval: 0, connTimeout: 0.5, nodeTimeout: 1 });
    for (const [kind, server] of [['account', account], ['container', container], ['object', object]] as const) {
      writeRingFile(join(swiftDir, ringFileName(kind)), buildRing({ partPower: 4, replicas: 1, devices: [{ ip: '127.0.0.1', port: server.port, device: 'sda' }] }));
    }
    // What Swift's object replicator and container updater leave in their recon caches after a
    // pass (no account.recon: its daemons never ran).
    const last = Math.floor(Date.now() / 1000) - 120;
    await dumpReconCaches({
      'object.recon': {
        replication_time: 2.5,
        replication_stats: { attempted: 16, failure: 2, success: 14 },
        replication_last: last,
        object_replication_time: 2.5,
        object_replication_last: last,
      },
      'container.recon': { container_updater_sweep: 0.25, replication_stats: { attempted: 4, failure: 0, success: 4 } },
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([account?.close(), container?.close(), object?.close()]);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('answers each endpoint with the JSON Swift answers for the same node', async () => {
    const paths = [
      '/recon/unmounted',
      '/recon/quarantined',
      '/recon/devices',
      '/recon/ringmd5',
      '/recon/swiftconfmd5',
      '/recon/replication',
      '/recon/replication/object',
      '/recon/replication/container',
      '/recon/replication/account',
      '/recon/updater/container',
      '/recon/updater/object',
      '/recon/auditor/object',
      '/recon/auditor/account',
      '/recon/expirer/object',
      '/recon/driveaudit',
      '/recon/sharding',
      '/recon/reconstruction/object',
      '/recon/relinker',
      '/recon/updater/account',
      '/recon/nope',
      '/recon/',
    ];
    const swift = await swiftAnswers([...paths, '/recon/diskusage']);
    for (const path of paths) {
      const ours = await get(object, path);
      expect([path, ours.status, ours.text]).toEqual([path, ...swift[path]!]);
      expect(ours.type).toBe(ours.status === 200 ? 'application/json' : 'text/plain');
    }
    // Usage moves as other tests write to the disk: compare all but used/avail, and that they add up.
    const du = JSON.parse((await get(object, '/recon/diskusage')).text) as { device: string; size: number; used: number; avail: number }[];
    const swiftDu = JSON.parse(swift['/recon/diskusage']![1]) as typeof du;
    expect(du.map(({ used: _u, avail: _a, ...rest }) => rest)).toEqual(swiftDu.map(({ used: _u, avail: _a, ...rest }) => rest));
    const fs = statfsSync(join(devices, 'sda'));
    expect(du.find((d) => d.device === 'sda')!.size).toBe(fs.bsize * fs.blocks);
    expect(JSON.parse(swift['/recon/unmounted']![1])).toEqual([{ device: 'sdb', mounted: false }]);
  });

  it('answers the host figures, any method, a percent-encoded path, and leaves other paths to the server', async () => {
    const load = JSON.parse((await get(account, '/recon/load')).text);
    expect(Object.keys(load)).toEqual(['1m', '5m', '15m', 'tasks', 'processes']);
    expect(load.tasks).toMatch(/^\d+\/\d+$/);
    expect((await get(account, '/recon/%6coad')).text).toMatch(/^\{"1m": \d+\.\d+, /);
    const head = await get(container, '/recon/load', 'HEAD');
    expect([head.status, head.text]).toEqual([200, '']);
    const mem = JSON.parse((await get(container, '/recon/mem')).text);
    expect(mem.MemTotal).toMatch(/^\d+ kB$/);
    const sock = JSON.parse((await get(object, '/recon/sockstat')).text);
    expect(sock.tcp_in_use).toBeGreaterThan(0);
    expect(sock.tcp_mem_allocated_bytes % 4096).toBe(0);
    const before = Date.now() / 1000;
    const t = Number((await get(object, '/recon/time')).text);
    expect(t).toBeGreaterThanOrEqual(before - 0.001);
    expect(t).toBeLessThanOrEqual(Date.now() / 1000 + 0.001);
    expect(JSON.parse((await get(object, '/recon/mounted')).text)).toContainEqual({ device: expect.any(String), path: '/' });
    expect(JSON.parse((await get(object, '/recon/version')).text)).toEqual({ version: 'sluice' });
    // Not recon: the server's own answers.
    expect((await get(object, '/recon')).status).toBe(400);
    const options = await req(object.url, 'OPTIONS', '/');
    expect([options.status, options.headers.server, options.headers.allow]).toEqual([200, 'object-server/sluice', 'DELETE, GET, HEAD, OPTIONS, POST, PUT']);
    expect((await req(container.url, 'OPTIONS', '/')).headers.server).toBe('container-server/sluice');
  });

  it('swift-recon prints every section with the node state', async () => {
    // A quarantined object: its .data corrupted, then read whole.
    const body = Buffer.alloc(1000, 7);
    const t0 = Date.now() / 1000;
    const put = (path: string, ts: number, headers: Record<string, string> = {}) =>
      req(object.url, 'PUT', path, { 'X-Timestamp': ts.toFixed(5), 'Content-Type': 'x', 'Content-Length': body.length, ...headers }, body);
    expect((await put('/sda/1/a/c/bad', t0)).status).toBe(201);
    const data = walk(devices).find((f) => f.endsWith('.data'))!;
    const fd = openSync(join(devices, data), 'r+');
    writeSync(fd, Buffer.from([0]), 0, 1, 10);
    closeSync(fd);
    expect((await req(object.url, 'GET', '/sda/1/a/c/bad')).status).toBe(200);
    // Quarantined once the body is sent, as Swift's DiskFileReader.close(): a client that has the
    // last byte can ask again before the rename; wait for it (at most 10 s).
    let again = await req(object.url, 'GET', '/sda/1/a/c/bad');
    for (let i = 0; i < 100 && again.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      again = await req(object.url, 'GET', '/sda/1/a/c/bad');
    }
    expect(again.status).toBe(404);
    // An async pending: the container server named for the update is not listening.
    const closed = await freePort();
    const headers = { 'X-Container-Host': `127.0.0.1:${closed}`, 'X-Container-Device': 'sda', 'X-Container-Partition': '3' };
    expect((await put('/sda/2/a/c/later', t0 + 1, headers)).status).toBe(201);
    await object.settle();
    expect(JSON.parse((await get(object, '/recon/async')).text)).toMatchObject({ async_pending: 1 });

    // All sections for the three server types, and the object sections one flag at a time.
    const [all, flags] = await Promise.all([
      swiftRecon('object', 'container', 'account', '--all'),
      swiftRecon('object', '-a', '-r', '-u', '-d', '-l', '-q', '--md5', '-T', '--sockstat', '--validate-servers', '--swift-versions'),
    ]);
    const fs = statfsSync(join(devices, 'sda'));
    for (const out of [all, flags]) {
      expect(out).not.toMatch(/Traceback|-> http|Error|!!|doesn't match/);
      const stat = (name: string, v: number) => new RegExp(`\\[${name}\\] low: ${v}, high: ${v}, avg: ${v}\\.0, total: ${v}, Failed: 0\\.0%, no_result: 0, reported: 1`);
      expect(out).toMatch(stat('async_pending', 1));
      expect(out).toMatch(stat('quarantined_objects', 1));
      expect(out).toMatch(stat('quarantined_objects_0', 1));
      expect(out).toMatch(stat('quarantined_containers', 0));
      expect(out).toMatch(stat('replication_attempted', 16));
      expect(out).toMatch(stat('replication_failure', 2));
      expect(out).toMatch(/\[replication_time\] low: 2, high: 2, avg: 2\.5, /);
      expect(out).toMatch(/Oldest completion was \S+ \S+ \(2 minutes ago\) by 127\.0\.0\.1:\d+\./);
      expect(out).toContain(`Not mounted: sdb on 127.0.0.1:${object.port}`);
      expect(out).toMatch(new RegExp(`Disk usage: space used: \\d+ of ${fs.bsize * fs.blocks}\n`));
      expect(out).toMatch(/\[1m_load_avg\] low: \d+, high: \d+, /);
      expect(out).toMatch(/\[tcp_in_use\] low: \d+, /);
      expect(out).toContain('Versions matched (sluice), 0 error[s] while checking hosts.');
      expect(out).toContain("Validating server type 'object' on 1 hosts...\n1/1 hosts ok, 0 error[s] while checking hosts.");
      expect(out).toMatch(/Checking ring md5sums\n1\/1 hosts matched, 0 error\[s\] while checking hosts\./);
      expect(out).toMatch(/Checking swift\.conf md5sum\n1\/1 hosts matched, 0 error\[s\] while checking hosts\./);
      expect(out).toMatch(/Checking time-sync\n1\/1 hosts matched, 0 error\[s\] while checking hosts\./);
    }
    // Container and account: the figures of the recon caches their daemons would write (container.recon above; no account.recon).
    expect(all).toMatch(/Checking updater times\n\[updater_last_sweep\] low: 0, high: 0, avg: 0\.2, /);
    expect(all).toContain('[account_auditor_pass_completed] - No hosts returned valid data.');
    expect(all).toContain("Validating server type 'account' on 1 hosts...\n1/1 hosts ok");
    expect(all).toContain(`Disk usage: lowest`);
  }, 240_000);
});

if (!haveSwift) it.skip(`recon against swift-recon ${skipReason}`, () => {});
