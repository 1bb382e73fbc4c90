/**
 * `sluice object-expirer`: usage errors, and one pass (--once) as a separate process against a
 * running cluster's rings.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { call, proxyConf } from '../proxy/helpers';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'sluice.js');

/** Runs the CLI without blocking this process's event loop (the cluster lives in it). */
function sluice(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('sluice object-expirer usage', () => {
  it('documents itself', async () => {
    const help = await sluice('help', 'object-expirer');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: sluice object-expirer --swift-dir DIR');
    expect((await sluice('help')).stdout).toContain('object-expirer');
  }, 30_000);

  it.each([
    [[], /--swift-dir is required/],
    [['--swift-dir', ROOT, '--interval', 'soon'], /--interval must be a number/],
    [['--swift-dir', ROOT, '--interval', '0'], /--interval must be more than 0/],
    [['--swift-dir', ROOT, '--processes', '2', '--process', '2'], /--process must be less than --processes/],
    [['--swift-dir', ROOT, '--process', '1'], /--process needs --processes/],
    [['--swift-dir', ROOT, 'extra'], /unexpected argument "extra"/],
  ])('exits 2 for %j', async (args, message) => {
    const r = await sluice('object-expirer', ...(args as string[]));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stderr).toContain('Usage: sluice object-expirer');
  }, 30_000);

  it('exits 1 with a message when the rings are missing', async () => {
    const r = await sluice('object-expirer', '--swift-dir', ROOT, '--once');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/sluice: error: ring file .*account\.ring\.gz not found/);
  }, 30_000);

  it('exits 1 with a message when --swift-dir does not exist', async () => {
    const r = await sluice('object-expirer', '--swift-dir', '/nonexistent/dir');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('sluice: error: --swift-dir /nonexistent/dir does not exist\n');
  }, 30_000);
});

describe('sluice object-expirer --once', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ replicas: 1, partPower: 4, proxyConfig: proxyConf() });
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('expires the objects whose time has come, then exits 0', async () => {
    expect((await call(c.url, 'PUT', '/v1/AUTH_cli/c')).status).toBe(201);
    expect((await call(c.url, 'PUT', '/v1/AUTH_cli/c/o', { 'X-Delete-After': '1' }, { body: 'bye' })).status).toBe(201);
    const head = await call(c.url, 'HEAD', '/v1/AUTH_cli/c/o');
    const deleteAt = Number(head.headers['x-delete-at']);
    const devices = join(c.dataDir, 'node');
    const dataFiles = () => {
      const found: string[] = [];
      const walk = (dir: string) => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          if (e.isDirectory()) walk(join(dir, e.name));
          else if (e.name.endsWith('.data')) found.push(e.name);
        }
      };
      for (const d of readdirSync(devices)) if (existsSync(join(devices, d, 'objects'))) walk(join(devices, d, 'objects'));
      return found;
    };
    expect(dataFiles()).toHaveLength(1);
    await c.object.settle();
    // The expirer finds work through the queue account's listing, which shows the queue container
    // once the container server has reported it (asynchronously, as in Swift): wait for that,
    // however loaded the machine, and for the delete-at time to pass.
    const queued = async () => {
      const listing = await call(c.url, 'GET', '/v1/.expiring_objects?format=json', { 'X-Test-Owner': 'yes' });
      return listing.status === 200 && (JSON.parse(listing.text) as unknown[]).length > 0;
    };
    const deadline = Date.now() + 20_000;
    while (!(await queued())) {
      if (Date.now() > deadline) throw new Error('the queue container never reached the .expiring_objects listing');
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, Math.max(deleteAt * 1000 - Date.now() + 50, 0)));

    const r = await sluice('object-expirer', '--swift-dir', c.swiftDir, '--once');
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('object-expirer: 1 objects expired, 0 to retry, 0 errors');
    expect(r.status).toBe(0);
    expect(dataFiles()).toEqual([]);
    expect((await call(c.url, 'GET', '/v1/AUTH_cli/c/o')).status).toBe(404);
  }, 60_000);
});
