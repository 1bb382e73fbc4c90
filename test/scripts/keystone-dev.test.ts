/**
 * scripts/keystone-dev.sh, the entry point that runs scripts/keystone/keystone.sh: its usage
 * error, `status`/`env`/`stop` of a data dir with nothing running (no Keystone needed), and,
 * when the test Keystone runs, `status` and `env` naming it as the environment does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findKeystone } from '../keystone/fixtures';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ks = await findKeystone();
const empty = mkdtempSync(join(tmpdir(), 'sluice-keystone-dev-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync('bash', ['scripts/keystone-dev.sh', ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('scripts/keystone-dev.sh', () => {
  it('names itself in the usage error', () => {
    for (const args of [[], ['restart']]) {
      const r = run(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('keystone.sh: error: usage: scripts/keystone-dev.sh start|stop|status|env\n');
      expect(r.stdout).toBe('');
    }
  });

  it('reports a data dir with nothing running: status 3, env fails, stop is a no-op', async () => {
    const env = { KEYSTONE_DATA: empty, KEYSTONE_PORT: String(await freePort()) };
    const status = run(['status'], env);
    expect([status.code, status.stdout]).toEqual([3, `stopped (data ${empty})\n`]);
    const exports = run(['env'], env);
    expect(exports.code).toBe(1);
    expect(exports.stdout).toBe('');
    expect(exports.stderr).toBe(`keystone.sh: error: not running (data ${empty}): run scripts/keystone-dev.sh start\n`);
    const stop = run(['stop'], env);
    expect([stop.code, stop.stderr]).toEqual([0, 'keystone.sh: not running\n']);
  });

  it.skipIf(!ks.ok || !process.env.KEYSTONE_DATA)('status and env name the running test Keystone', () => {
    const status = run(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^running: ${process.env.KEYSTONE_URL} \\(pid \\d+, Keystone .*, data ${process.env.KEYSTONE_DATA}\\)\\n$`));
    const exports = run(['env']);
    expect(exports.code).toBe(0);
    expect(exports.stdout.split('\n').filter(Boolean)).toEqual([
      `export KEYSTONE_URL=${process.env.KEYSTONE_URL}`,
      `export KEYSTONE_FIXTURES=${process.env.KEYSTONE_FIXTURES}`,
      `export KEYSTONE_DATA=${process.env.KEYSTONE_DATA}`,
    ]);
  });
});
