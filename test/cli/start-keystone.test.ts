/**
 * `sluice start --auth keystone` against the real Keystone of scripts/keystone-dev.sh: the
 * development cluster with authtoken + keystoneauth, run through the real CLI as a user runs it.
 * A token from Keystone creates and reads in its project's account; no token is a 401 naming
 * Keystone; delay_auth_decision lets container ACLs and tempurl serve anonymous requests; the
 * service password (environment or file) never shows in the output. Without a Keystone the
 * suite is skipped with the reason (never under CI: findKeystone throws there).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findKeystone, issueToken, passwordAuth } from '../keystone/fixtures';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'sluice.js');
const ks = await findKeystone();
const dir = mkdtempSync(join(tmpdir(), 'sluice-start-keystone-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Started {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
}

/** `sluice start` on free ports; resolves once it prints its proxy URL. */
async function start(name: string, args: string[], env: Record<string, string>): Promise<Started> {
  const childEnv = { ...process.env, ...env };
  if (!('SLUICE_KEYSTONE_PASSWORD' in env)) delete childEnv.SLUICE_KEYSTONE_PASSWORD;
  const child = spawn(process.execPath, [BIN, 'start', '--data-dir', join(dir, name), '--port', '0', '--storage-ports', '0,0,0', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv,
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  let url: string | undefined;
  while (!url) {
    url = /^sluice is running: proxy (http:\/\/\S+) /m.exec(out)?.[1];
    if (url) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sluice start ${args.join(' ')} did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

async function req(url: string, init: RequestInit & { token?: string } = {}): Promise<{ status: number; headers: Headers; body: string }> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('x-auth-token', init.token);
  const res = await fetch(url, { ...init, headers });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** Swift's tempurl signature (HMAC-SHA256 over method, expiry and path). */
function tempurl(method: string, path: string, key: string): string {
  const expires = Math.floor(Date.now() / 1000) + 300;
  const sig = createHmac('sha256', key).update(`${method}\n${expires}\n${path}`).digest('hex');
  return `${path}?temp_url_sig=${sig}&temp_url_expires=${expires}`;
}

describe.skipIf(!ks.ok)('sluice start --auth keystone (real Keystone)', { timeout: 120_000 }, () => {
  if (!ks.ok) return;
  const f = ks.fixtures;
  const servicePassword = f.authtoken.password;
  const owner = f.users['operator-a']!;
  const account = `/v1/AUTH_${owner.project_id}`;

  it('serves a Keystone token, refuses no token with a Keystone challenge, and keeps anonymous ACL and tempurl access (2 workers, password from the environment)', async () => {
    const sluice = await start('env', ['--auth', 'keystone', '--keystone-url', ks.url, '--workers', '2'], { SLUICE_KEYSTONE_PASSWORD: servicePassword });
    try {
      const { token } = await issueToken(ks.url, passwordAuth(owner));
      const c = `${sluice.url}${account}/keystone-start-${Date.now()}`;
      expect((await req(c, { method: 'PUT', token })).status).toBe(201);
      expect((await req(`${c}/hello.txt`, { method: 'PUT', token, body: 'Hello, Keystone', headers: { 'content-type': 'text/plain' } })).status).toBe(201);
      const got = await req(`${c}/hello.txt`, { token });
      expect([got.status, got.body]).toEqual([200, 'Hello, Keystone']);
      const listing = await req(c, { token });
      expect([listing.status, listing.body]).toEqual([200, 'hello.txt\n']);

      // No token: authtoken (delay_auth_decision) lets it through, keystoneauth refuses it, and
      // the 401 names Keystone as keystonemiddleware's does.
      const anon = await req(`${c}/hello.txt`);
      expect(anon.status).toBe(401);
      expect(anon.headers.get('www-authenticate')).toContain(`Keystone uri="${f.keystone.url}"`);
      // A bogus token: 401 too.
      expect((await req(`${c}/hello.txt`, { token: 'gAAAAAbogus' })).status).toBe(401);
      // Another project's user has no say in this account.
      const other = await issueToken(ks.url, passwordAuth(f.users['operator-b']!));
      expect((await req(c, { token: other.token })).status).toBe(403);

      // Anonymous access that delay_auth_decision exists for: a .r:* container ACL...
      expect((await req(c, { method: 'POST', token, headers: { 'x-container-read': '.r:*' } })).status).toBe(204);
      const public_ = await req(`${c}/hello.txt`);
      expect([public_.status, public_.body]).toEqual([200, 'Hello, Keystone']);
      // ...and a temp URL signed with the account's key.
      const key = `k-${Date.now()}`;
      expect((await req(`${sluice.url}${account}`, { method: 'POST', token, headers: { 'x-account-meta-temp-url-key': key } })).status).toBe(204);
      const signed = await req(sluice.url + tempurl('GET', `${new URL(c).pathname}/hello.txt`, key));
      expect([signed.status, signed.body]).toEqual([200, 'Hello, Keystone']);

      expect(sluice.output()).toContain(`Keystone: ${f.keystone.url} (authtoken validates tokens as sluice, project service, domain default)`);
      expect(sluice.output()).not.toContain(servicePassword);
      expect(await sluice.stop()).toBe(0);
      expect(sluice.output()).not.toContain('sluice: error');
    } finally {
      if (sluice.child.exitCode === null) await sluice.stop();
    }
  });

  it('reads the password from --keystone-password-file (the proxy in-process)', async () => {
    const file = join(dir, 'service-password');
    writeFileSync(file, `${servicePassword}\n`, { mode: 0o600 });
    const sluice = await start('file', ['--auth', 'keystone', '--keystone-url', ks.url, '--keystone-password-file', file, '--workers', '0'], {});
    try {
      const { token } = await issueToken(ks.url, passwordAuth(owner));
      expect((await req(`${sluice.url}${account}/from-file`, { method: 'PUT', token })).status).toBe(201);
      const head = await req(`${sluice.url}${account}`, { method: 'HEAD', token });
      expect(head.status).toBe(204);
      expect(head.headers.get('x-account-container-count')).toBe('1');
      expect((await req(`${sluice.url}${account}`)).status).toBe(401);
      expect(sluice.output()).not.toContain(servicePassword);
      expect(sluice.output()).not.toContain('can be read by other users');
    } finally {
      expect(await sluice.stop()).toBe(0);
    }
  });
});

if (!ks.ok) {
  describe('sluice start --auth keystone (real Keystone)', () => {
    it.skip(`skipped: ${ks.reason}`, () => undefined);
  });
}
