/**
 * The two clusters the differential harness compares, on free loopback ports in one temp
 * directory: (a) Debian's Swift 2.30 (swift-proxy-server with the SAIO pipeline over Swift's own
 * account, container and object servers, rings from swift-ring-builder, its own memcached) and
 * (b) sluice (startCluster: its proxy reading the same proxy-server.conf text, over its own
 * storage servers, with a memcached of its own, so cached account info and tokens never cross).
 *
 * Swift reads /etc/swift/swift.conf unless told otherwise; every Swift process here is started
 * through a short Python prelude that points swift_dir at the run's directory first (as
 * test/interop/swift_proxy_in_dir.py does for the proxy), so the machine's file is never touched.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { proxyServerConf, realmsConf } from './differential-config';

const PY = '/usr/bin/python3';

/** Ports nothing listens on now, each held until all are found so they differ. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Python that runs one Swift WSGI server with swift.conf read from argv[1]. */
const SWIFT_IN_DIR = `
import sys
from swift.common import constraints, storage_policy
from swift.common.utils import set_swift_dir
from swift.common.wsgi import run_wsgi
set_swift_dir(sys.argv[1])
constraints.reload_constraints()
storage_policy.reload_storage_policies()
kw = {}
if sys.argv[3] == 'object-server':
    from swift.obj import server
    kw['global_conf_callback'] = server.global_conf_callback
sys.exit(run_wsgi(sys.argv[2], sys.argv[3], **kw))
`;

export interface Side {
  name: 'swift' | 'sluice';
  port: number;
}

export interface Clusters {
  swift: Side;
  sluice: Side;
  dir: string;
  /** How long each side took to start (slow starts are worth knowing about on a busy machine). */
  readiness: string;
  stop(): Promise<void>;
}

/** A Python server can take minutes to start on a loaded 2-core machine (load average 20+ seen). */
const START_LIMIT_MS = 300_000;

async function waitHealthy(port: number, child: ChildProcess | undefined, what: string, log: () => string): Promise<void> {
  const deadline = Date.now() + START_LIMIT_MS;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}):\n${log()}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthcheck`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not healthy on port ${port} after ${START_LIMIT_MS / 1000} s:\n${log()}`);
}

export async function startClusters(): Promise<Clusters> {
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-differential-'));
  const children: ChildProcess[] = [];
  const logs = new Map<ChildProcess, string>();
  let sluice: TestCluster | undefined;
  const spawnLogged = (cmd: string, args: string[]) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    logs.set(child, '');
    const keep = (d: Buffer) => logs.set(child, (logs.get(child)! + d.toString()).slice(-4000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    children.push(child);
    return child;
  };
  const stop = async () => {
    await sluice?.stop().catch(() => undefined);
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    if (process.env.KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [swiftPort, sluicePort, mcSwift, mcSluice, accountPort, containerPort, objectPort] = await freePorts(7);
    for (const mc of [mcSwift!, mcSluice!]) spawnLogged('memcached', ['-l', '127.0.0.1', '-p', String(mc), '-U', '0', '-u', userInfo().username, '-m', '16']);

    // (a) Swift: swift.conf, realms, storage server confs, 1-replica rings from Swift's builder.
    const etc = join(dir, 'swift-etc');
    const devices = join(dir, 'swift-node');
    mkdirSync(join(devices, 'sda'), { recursive: true });
    mkdirSync(etc, { recursive: true });
    writeFileSync(join(etc, 'swift.conf'), '[swift-hash]\nswift_hash_path_prefix = differential-prefix\nswift_hash_path_suffix = differential-suffix\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n');
    writeFileSync(join(etc, 'container-sync-realms.conf'), realmsConf());
    const storagePorts = { account: accountPort!, container: containerPort!, object: objectPort! };
    for (const [kind, port] of Object.entries(storagePorts)) {
      writeFileSync(
        join(etc, `${kind}-server.conf`),
        `[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = ${port}\nworkers = 0\nuser = ${userInfo().username}\nswift_dir = ${etc}\ndevices = ${devices}\nmount_check = false\nlog_level = WARNING\n\n[pipeline:main]\npipeline = healthcheck ${kind}-server\n\n[filter:healthcheck]\nuse = egg:swift#healthcheck\n\n[app:${kind}-server]\nuse = egg:swift#${kind}\n`,
      );
      const builder = join(etc, `${kind}.builder`);
      const run = (...args: string[]) => spawnSync('swift-ring-builder', [builder, ...args], { encoding: 'utf8' });
      run('create', '6', '1', '1');
      run('add', `r1z1-127.0.0.1:${port}/sda`, '1');
      // rebalance exits 1 for warnings (a fresh, balanced ring), 2 on error.
      const r = run('rebalance');
      if ((r.status ?? 2) > 1) throw new Error(`swift-ring-builder ${kind} rebalance: ${r.stdout}${r.stderr}`);
    }
    const swiftProcs: Array<[ChildProcess, number, string]> = [];
    for (const [kind, port] of Object.entries(storagePorts)) {
      swiftProcs.push([spawnLogged(PY, ['-c', SWIFT_IN_DIR, etc, join(etc, `${kind}-server.conf`), `${kind}-server`]), port, `swift-${kind}-server`]);
    }
    writeFileSync(join(etc, 'proxy-server.conf'), proxyServerConf({ port: swiftPort!, memcachePort: mcSwift!, swiftDir: etc }));
    swiftProcs.push([spawnLogged(PY, ['-c', SWIFT_IN_DIR, etc, join(etc, 'proxy-server.conf'), 'proxy-server']), swiftPort!, 'swift-proxy-server']);

    // (b) sluice, meanwhile: the same proxy-server.conf over its own servers.
    // sluice's cluster keeps swift.conf and rings in <dataDir>/etc; the realms go there too.
    const sluiceEtc = join(dir, 'sluice-data', 'etc');
    mkdirSync(sluiceEtc, { recursive: true });
    writeFileSync(join(sluiceEtc, 'container-sync-realms.conf'), realmsConf());
    // DIFFERENTIAL_SLUICE_LOG=<level> shows sluice's log on stderr (for diagnosing a FAIL).
    const level = process.env.DIFFERENTIAL_SLUICE_LOG;
    const logger = level ? pino({ level }, pino.destination(2)) : undefined;
    sluice = await startCluster({ dataDir: join(dir, 'sluice-data'), proxyPort: sluicePort!, logger, proxyConfig: proxyServerConf({ port: sluicePort!, memcachePort: mcSluice!, swiftDir: sluiceEtc }) });

    const sluiceReady = (Date.now() - t0) / 1000;
    await waitHealthy(sluicePort!, undefined, 'sluice', () => '');
    for (const [child, port, what] of swiftProcs) await waitHealthy(port, child, what, () => logs.get(child) ?? '');
    const swiftReady = (Date.now() - t0) / 1000;
    return { swift: { name: 'swift', port: swiftPort! }, sluice: { name: 'sluice', port: sluicePort! }, dir, readiness: `sluice ready after ${sluiceReady.toFixed(1)} s, Swift after ${swiftReady.toFixed(1)} s`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
