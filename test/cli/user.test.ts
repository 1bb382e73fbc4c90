/**
 * `sluice user add|remove|list` as a child process, and a running proxy seeing its changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserStore } from '../../src/middleware/tempauth/user-store';
import { DEV_PROXY_CONF } from '../../src/cluster/dev-cluster';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { send } from '../conformance/replayer';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'sluice.js');

/** Async, so a cluster in this process keeps serving while the CLI runs. */
function sluice(args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-user-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sluice user', () => {
  it('add with --key, --key-stdin or a generated key; list shows no secrets; remove', async () => {
    const store = join(dir, 'a.db');
    let r = await sluice(['user', 'add', 'acme:ann', '--key', 'ann-secret', '--admin', '--group', 'ops', '--store', store]);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(r.stdout).toBe(`added acme:ann to ${store}\n`);
    r = await sluice(['user', 'add', 'acme:bob', '--key-stdin', '--reseller-admin', '--storage-url', 'https://s.example.com/v1/AUTH_acme', '--store', store], 'bob-secret\n');
    expect(r.status).toBe(0);
    r = await sluice(['user', 'add', 'other:cy', '--store', store]);
    expect(r.status).toBe(0);
    const generated = /^key: ([0-9a-f]{40}) \(shown only this once\)$/m.exec(r.stdout)?.[1];
    expect(generated).toBeDefined();

    const reader = new UserStore(store, { readonly: true });
    expect((await reader.verify('acme', 'ann', 'ann-secret')).ok).toBe(true);
    expect((await reader.verify('acme', 'bob', 'bob-secret')).ok).toBe(true); // trailing newline dropped
    expect((await reader.verify('other', 'cy', generated!)).ok).toBe(true);
    expect(reader.get('acme', 'bob')).toMatchObject({ groups: ['.reseller_admin'], storageUrl: 'https://s.example.com/v1/AUTH_acme' });
    reader.close();

    r = await sluice(['user', 'list', '--store', store]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^USER\s+GROUPS\s+STORAGE URL\s+CREATED$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ['acme:ann', '.admin,ops', '(default)'],
      ['acme:bob', '.reseller_admin', 'https://s.example.com/v1/AUTH_acme'],
      ['other:cy', '-', '(default)'],
    ]);
    expect(r.stdout).not.toMatch(/ann-secret|bob-secret/);
    expect(r.stdout).not.toContain(generated);
    // Nor is any key in the file in plain text.
    expect(readFileSync(store).toString('latin1')).not.toMatch(/ann-secret|bob-secret/);

    r = await sluice(['user', 'remove', 'acme:bob', '--store', store]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('removed acme:bob');
    expect((await sluice(['user', 'list', '--store', store])).stdout).not.toContain('acme:bob');
  });

  it('--data-dir DIR means DIR/etc/users.db', async () => {
    const r = await sluice(['user', 'add', 'a:u', '--key', 'k', '--data-dir', join(dir, 'data')]);
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, 'data', 'etc', 'users.db'))).toBe(true);
    expect((await sluice(['user', 'list', '--data-dir', join(dir, 'data')])).stdout).toContain('a:u');
  });

  it('errors exit 1: duplicate user, unknown user, missing store', async () => {
    const store = join(dir, 'e.db');
    expect((await sluice(['user', 'add', 'a:u', '--key', 'k', '--store', store])).status).toBe(0);
    let r = await sluice(['user', 'add', 'a:u', '--key', 'k2', '--store', store]);
    expect(r).toMatchObject({ status: 1, stdout: '' });
    expect(r.stderr).toBe(`sluice: error: user a:u already exists in ${store}\n`);
    r = await sluice(['user', 'remove', 'a:nobody', '--store', store]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`sluice: error: no user a:nobody in ${store}\n`);
    const missing = join(dir, 'missing.db');
    for (const args of [['list'], ['remove', 'a:u']]) {
      r = await sluice(['user', ...args, '--store', missing]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`sluice: error: no user store at ${missing}\n`);
    }
    expect(existsSync(missing)).toBe(false);
  });

  it('bad usage exits 2 with the usage text and never echoes a key', async () => {
    const store = join(dir, 'u.db');
    const cases: [string[], string][] = [
      [['user'], 'user needs a subcommand'],
      [['user', 'rename'], 'unknown user subcommand "rename"'],
      [['user', 'add', '--store', store], 'missing ACCOUNT:USER'],
      [['user', 'add', 'nocolon', '--store', store], 'is not ACCOUNT:USER'],
      [['user', 'add', ':u', '--store', store], 'account name is empty'],
      [['user', 'add', 'a:', '--store', store], 'user name is empty'],
      [['user', 'add', 'a:b:c', '--store', store], "user name \"b:c\" contains ':'"],
      [['user', 'add', 'a:u', '--key', '', '--store', store], 'key is empty'],
      [['user', 'add', 'a:u', '--key', 'k', '--key-stdin', '--store', store], 'not both'],
      [['user', 'add', 'a:u', '--key', 'k', '--group', 'x,y', '--store', store], 'bad group name'],
      [['user', 'add', 'a:u', '--key', 'k', '--storage-url', 'relative', '--store', store], 'must be absolute'],
      [['user', 'add', 'a:u', '--key', 'k', '--store', store, '--data-dir', dir], 'not both'],
    ];
    for (const [args, msg] of cases) {
      const r = await sluice(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(msg);
      expect(r.stderr).toContain('Usage: sluice user add');
    }
    const unknown = await sluice(['user', 'add', 'a:u', '--frobnicate', '--key', 'topsecret']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).not.toContain('topsecret');
    expect(existsSync(store)).toBe(false);
    const help = await sluice(['help', 'user']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('sluice user list');
    expect((await sluice(['help'])).stdout).toContain('user add|remove|list');
  });
});

describe('sluice user against a running proxy', () => {
  let cluster: TestCluster;
  let store: string;
  beforeAll(async () => {
    store = join(dir, 'live', 'users.db');
    const conf = DEV_PROXY_CONF.replace('use = egg:swift#tempauth\n', `use = egg:swift#tempauth\nusers_db = ${store}\n`);
    cluster = await startCluster({ proxyConfig: conf });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('add and remove take effect without a restart', async () => {
    const auth = () => send(cluster.url, 'GET', '/auth/v1.0', { 'X-Auth-User': 'live:lu', 'X-Auth-Key': 'live-key' });
    expect((await auth()).status).toBe(401);
    expect((await sluice(['user', 'add', 'live:lu', '--key-stdin', '--admin', '--store', store], 'live-key')).status).toBe(0);
    const ok = await auth();
    expect(ok.status).toBe(200);
    expect((await send(cluster.url, 'PUT', '/v1/AUTH_live/c', { 'X-Auth-Token': ok.headers['x-auth-token']! })).status).toBe(201);
    expect((await sluice(['user', 'remove', 'live:lu', '--store', store])).status).toBe(0);
    expect((await auth()).status).toBe(401);
  });
});
