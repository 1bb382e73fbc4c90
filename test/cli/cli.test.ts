import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserializeRing, Ring } from '../../src/common/ring';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'sluice.js');

function sluice(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sluice ring', () => {
  it('builds a ring file that loads with the requested layout', () => {
    const out = join(dir, 'account.ring.gz');
    const r = sluice(
      'ring', 'build', 'account', '--out', out, '--part-power', '6', '--replicas', '3',
      '--device', 'r1z1-127.0.0.1:6202/sda',
      '--device', 'r1z2-127.0.0.1:6202/sdb:2',
      '--device', 'r2z3-[::1]:6212R[::2]:6312/sdc:1.5',
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(out);
    const data = deserializeRing(readFileSync(out));
    expect(data.partShift).toBe(26);
    expect(data.replica2part2dev).toHaveLength(3);
    expect(data.devs).toEqual([
      { id: 0, region: 1, zone: 1, ip: '127.0.0.1', port: 6202, replication_ip: '127.0.0.1', replication_port: 6202, device: 'sda', weight: 1, meta: '' },
      { id: 1, region: 1, zone: 2, ip: '127.0.0.1', port: 6202, replication_ip: '127.0.0.1', replication_port: 6202, device: 'sdb', weight: 2, meta: '' },
      { id: 2, region: 2, zone: 3, ip: '::1', port: 6212, replication_ip: '::2', replication_port: 6312, device: 'sdc', weight: 1.5, meta: '' },
    ]);
    const ring = new Ring(null, data, { prefix: '', suffix: 'x' });
    for (let p = 0; p < 64; p++) expect(ring.getPartNodes(p)).toHaveLength(3);
  });

  it('writes <kind>.ring.gz into --swift-dir, object-0 as object.ring.gz', () => {
    const swiftDir = join(dir, 'swift');
    mkdirSync(swiftDir);
    for (const [kind, file] of [['container', 'container.ring.gz'], ['object-0', 'object.ring.gz'], ['object-2', 'object-2.ring.gz']]) {
      const r = sluice('ring', 'build', kind!, '--swift-dir', swiftDir, '--part-power', '2', '--replicas', '1', '--device', 'z1-127.0.0.1:6201/sda');
      expect(r.status).toBe(0);
      expect(existsSync(join(swiftDir, file!))).toBe(true);
    }
  });

  it('shows devices and the partition balance', () => {
    const out = join(dir, 'show.ring.gz');
    expect(sluice('ring', 'build', 'object', '--out', out, '--part-power', '4', '--replicas', '2',
      '--device', 'r1z1-10.0.0.1:6200/d1', '--device', 'r1z2-10.0.0.2:6200/d2:3').status).toBe(0);
    const r = sluice('ring', 'show', out);
    expect(r.status).toBe(0);
    // Two replicas on two devices: each holds every partition once whatever the weights, so the
    // report shows d1 over and d2 under its weighted share.
    expect(r.stdout).toContain('16 partitions (part power 4), 2 replicas, 1 regions, 2 zones, 2 devices, 100.00 balance');
    expect(r.stdout).toContain('Partitions with more than one replica on the same device: 0');
    const lines = r.stdout.split('\n');
    expect(lines.find((l) => /\bd1\b/.test(l))).toMatch(/^\s+0\s+1\s+1\s+10\.0\.0\.1:6200\s+10\.0\.0\.1:6200\s+d1\s+1\.00\s+16\s+100\.00$/);
    expect(lines.find((l) => /\bd2\b/.test(l))).toMatch(/\s+d2\s+3\.00\s+16\s+-33\.33$/);
  });

  it('exits 2 with a reason and usage on bad usage', () => {
    const cases: [string[], RegExp][] = [
      [[], /no command given/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['ring'], /ring needs a subcommand/],
      [['ring', 'build', 'accounts', '--out', 'x', '--part-power', '2', '--replicas', '1', '--device', 'z1-1.2.3.4:1/d'], /unknown ring "accounts"/],
      [['ring', 'build', 'account', '--part-power', '2', '--replicas', '1', '--device', 'z1-1.2.3.4:1/d'], /one of --out FILE or --swift-dir DIR/],
      [['ring', 'build', 'account', '--out', join(dir, 'x'), '--part-power', '40', '--replicas', '1', '--device', 'z1-1.2.3.4:1/d'], /--part-power must be an integer from 0 to 24/],
      [['ring', 'build', 'account', '--out', join(dir, 'x'), '--part-power', '2', '--replicas', 'three', '--device', 'z1-1.2.3.4:1/d'], /--replicas must be a number/],
      [['ring', 'build', 'account', '--out', join(dir, 'x'), '--part-power', '2', '--replicas', '1'], /at least one --device/],
      [['ring', 'build', 'account', '--out', join(dir, 'x'), '--part-power', '2', '--replicas', '1', '--device', '1.2.3.4/sda'], /bad device spec/],
      [['ring', 'build', 'account', '--out', join(dir, 'x'), '--part-power', '2', '--replicas', '1', '--device', 'z1-1.2.3.4:70000/sda'], /bad port 70000/],
      [['ring', 'build', 'account', '--out', join(dir, 'x'), '--part-power', '2', '--replicas', '1', '--device', 'z1-1.2.3.4:1/d:0'], /at least one device with weight/],
      [['ring', 'build', 'account', '--out', join(dir, 'x'), '--part-power', '2', '--replicas', '1', '--device', 'z1-1.2.3.4:1/d', '--device', 'z2-1.2.3.4:1/d'], /given twice/],
      [['ring', 'build', 'account', '--nope'], /Unknown option '--nope'/],
      [['account-server', '--port', 'http'], /--port must be/],
    ];
    for (const [args, message] of cases) {
      const r = sluice(...args);
      expect({ args, status: r.status }).toEqual({ args, status: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it('exits 1 when a ring file cannot be read or parsed', () => {
    const bogus = join(dir, 'bogus.ring.gz');
    writeFileSync(bogus, 'not a ring');
    const r = sluice('ring', 'show', bogus);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/sluice: error: ring is not gzip data/);
    expect(sluice('ring', 'show', join(dir, 'none')).stderr).toMatch(/cannot read .*ENOENT/);
  });

  it('prints help and version', () => {
    const help = sluice('help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: sluice <command>/);
    expect(sluice('help', 'object-server').stdout).toMatch(/--devices\s+directory with one sub-directory per device/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(sluice('--version').stdout.trim()).toBe(`sluice ${pkg.version}`);
  });
});

function head(url: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'HEAD' }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('sluice account-server', () => {
  it('serves until SIGTERM and then exits 0', async () => {
    const devices = join(dir, 'node');
    mkdirSync(join(devices, 'sda'), { recursive: true });
    const swiftDir = join(dir, 'conf');
    mkdirSync(swiftDir);
    writeFileSync(join(swiftDir, 'swift.conf'), '[swift-hash]\nswift_hash_path_suffix = cli-test\n');
    const child = spawn(process.execPath, [BIN, 'account-server', '--bind', '127.0.0.1', '--port', '0', '--devices', devices, '--swift-dir', swiftDir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /account-server listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
      });
      expect((await head(`${url}/sda/0/AUTH_missing`)).status).toBe(404);
      // A device that is not there is 507, as Swift with mount_check = false.
      expect((await head(`${url}/sdz/0/AUTH_missing`)).status).toBe(507);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toContain('SIGTERM, shutting down');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
