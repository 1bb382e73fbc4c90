/**
 * No secret reaches a log (issue 14): every secret-bearing name a client can use, in every
 * encoding a client can send it in, through a whole pipeline (tempauth and tempurl; authtoken and
 * keystoneauth against the real Keystone), with the proxy's access and error logs captured at the
 * most verbose level. Each secret is unique, so a leak names its channel; the logs are searched
 * for every 12-character window of each secret, raw and in the encodings a log could show it in
 * (percent-encoded, base64, base64url, hex, either case).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { proxyConf } from '../helpers/proxy-conf';
import { call } from '../proxy/helpers';
import { findKeystone, keystoneProxyConf, TokenBox } from '../keystone/fixtures';

/** Captured log text: the access log and the proxy's own log (trace level: everything). */
class CapturedLogs {
  readonly lines: string[] = [];
  private stream = () =>
    new Writable({
      write: (chunk, _enc, cb) => {
        this.lines.push(String(chunk));
        cb();
      },
    });
  readonly accessLogger = pino({ level: 'trace' }, this.stream());
  readonly logger = pino({ level: 'trace' }, this.stream());
  text(): string {
    return this.lines.join('');
  }
  /** The access-log lines as JSON objects (other lines, a failed backend request's, name a transaction too). */
  access(): Record<string, unknown>[] {
    return this.lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('"transaction_id"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => 'status' in l);
  }
}

/** A secret no log line could contain by chance: 40 characters from [g-z] (no hex digit), or as given. */
function secret(): string {
  return [...randomBytes(40)].map((b) => String.fromCharCode(0x67 + (b % 20))).join('');
}

/** Every form a log could show `s` in; each is then searched for by 12-character windows. */
function encodings(s: string): string[] {
  const b = Buffer.from(s, 'utf8');
  return [s, s.toLowerCase(), s.toUpperCase(), encodeURIComponent(s), b.toString('base64'), b.toString('base64url'), b.toString('hex'), b.toString('hex').toUpperCase()];
}

/** The secrets (by label) any of whose 12-character windows, in any encoding, occurs in `text`. */
function leaks(text: string, secrets: Record<string, string>, reveal = 0): string[] {
  const found: string[] = [];
  for (const [label, s] of Object.entries(secrets)) {
    // With reveal_sensitive_prefix = N the first N characters may show, and nothing after them.
    const hidden = s.slice(reveal);
    const hit = encodings(hidden).some((form) => {
      for (let i = 0; i + 12 <= form.length; i++) if (text.includes(form.slice(i, i + 12))) return true;
      return false;
    });
    if (hit) found.push(label);
  }
  return found;
}

function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => (cond() ? resolve() : Date.now() > deadline ? reject(new Error('timed out waiting for log lines')) : setTimeout(tick, 10));
    tick();
  });
}

/** A client's temp URL signature (as `swift tempurl` makes it) in the given form. */
function sign(key: string, method: string, path: string, expires: number, digest: 'sha1' | 'sha256' | 'sha512', form: 'hex' | 'b64' | 'b64url'): string {
  const mac = createHmac(digest, key).update(`${method}\n${expires}\n${path}`, 'utf8').digest();
  if (form === 'hex') return mac.toString('hex');
  return `${digest}:${mac.toString(form === 'b64' ? 'base64' : 'base64url')}`;
}

/** Upload `len` bytes of a declared 1 MiB body, then hang up (the access log records a 499). */
function abortedUpload(base: string, path: string, headers: Record<string, string>): Promise<void> {
  const u = new URL(base);
  return new Promise((resolve) => {
    const r = request({ host: u.hostname, port: u.port, method: 'PUT', path, headers: { ...headers, 'content-length': String(1 << 20) }, agent: false });
    r.on('error', () => resolve());
    r.write(Buffer.alloc(4096, 1), () => setTimeout(() => (r.destroy(), resolve()), 100));
  });
}

const PIPELINE = ['catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', 'cache', 'listing_formats', 'bulk', 'tempurl', 'tempauth', 'copy', 'proxy-logging'];

describe.each([0, 4])('tempauth and tempurl, reveal_sensitive_prefix = %i', (reveal) => {
  const logs = new CapturedLogs();
  const userKey = secret();
  let cl: TestCluster;
  beforeAll(async () => {
    const conf = proxyConf({
      pipeline: PIPELINE,
      sections: {
        tempauth: `user_test_tester = ${userKey} .admin\nuser_test2_tester2 = ${userKey}x`,
        'proxy-logging': `reveal_sensitive_prefix = ${reveal}`,
      },
    });
    cl = await startCluster({ proxyConfig: conf, accessLogger: logs.accessLogger, logger: logs.logger });
  });
  afterAll(() => cl?.stop());

  it('finds no token, key or signature in the logs, whatever name or encoding carried it', { timeout: 30_000 }, async () => {
    const base = cl.url;
    const secrets: Record<string, string> = { 'tempauth user key (config)': userKey };
    let requests = 0;
    const send = async (method: string, path: string, headers: Record<string, string> = {}, body?: string) => {
      requests++;
      return call(base, method, path, headers, { body });
    };

    // Tokens come from /auth with the key in X-Auth-Key, X-Storage-Pass, and wrong keys too.
    const auth = await send('GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': userKey });
    expect(auth.status).toBe(200);
    const token = String(auth.headers['x-auth-token']);
    secrets['X-Auth-Token'] = token;
    expect((await send('GET', '/auth/v1.0', { 'X-Storage-User': 'test:tester', 'X-Storage-Pass': userKey })).status).toBe(200);
    const wrongKey = secret();
    secrets['a wrong X-Auth-Key'] = wrongKey;
    expect((await send('GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': wrongKey })).status).toBe(401);
    const wrongPass = secret();
    secrets['a wrong X-Storage-Pass'] = wrongPass;
    expect((await send('GET', '/auth/v1.0', { 'X-Storage-User': 'test:tester', 'X-Storage-Pass': wrongPass })).status).toBe(401);

    // Account and container keys (temp URL, sync) set and removed by the owner.
    const keys = { account: secret(), account2: secret(), container: secret(), container2: secret(), sync: secret() };
    secrets['X-Account-Meta-Temp-URL-Key'] = keys.account;
    secrets['X-Account-Meta-Temp-URL-Key-2'] = keys.account2;
    secrets['X-Container-Meta-Temp-URL-Key'] = keys.container;
    secrets['X-Container-Meta-Temp-URL-Key-2'] = keys.container2;
    secrets['X-Container-Sync-Key'] = keys.sync;
    const owner = { 'X-Auth-Token': token };
    expect((await send('POST', '/v1/AUTH_test', { ...owner, 'X-Account-Meta-Temp-URL-Key': keys.account, 'x-account-meta-temp-url-key-2': keys.account2 })).status).toBe(204);
    expect((await send('PUT', '/v1/AUTH_test/c', { ...owner, 'X-Container-Meta-Temp-URL-Key': keys.container, 'X-CONTAINER-META-TEMP-URL-KEY-2': keys.container2 })).status).toBe(201);
    expect((await send('POST', '/v1/AUTH_test/c', { ...owner, 'X-Container-Sync-Key': keys.sync })).status).toBe(204);
    expect((await send('PUT', '/v1/AUTH_test/c/o', owner, 'hello')).status).toBe(201);
    expect((await send('HEAD', '/v1/AUTH_test/c', { 'X-Storage-Token': token })).status).toBe(204);

    // The same token under every header that carries one; a made-up token; a service token.
    const bogus = secret();
    secrets['an unknown X-Auth-Token'] = `AUTH_tk${bogus}`;
    expect((await send('GET', '/v1/AUTH_test', { 'X-Auth-Token': `AUTH_tk${bogus}` })).status).toBe(401);
    const service = secret();
    secrets['X-Service-Token'] = `AUTH_tk${service}`;
    expect((await send('GET', '/v1/AUTH_test', { ...owner, 'X-Service-Token': `AUTH_tk${service}` })).status).toBe(200);
    expect((await send('GET', '/v1/AUTH_test', { 'x-auth-token': token, 'X-AUTH-TOKEN': token })).status).toBeLessThan(500);
    // Requests refused before any auth: a bad path and a bad method still log the token obscured.
    expect((await send('GET', '/v1/AUTH_test/c/%ff', owner)).status).toBe(412);
    expect((await send('PATCH', '/v1/AUTH_test/c/o', owner)).status).toBe(405);
    await abortedUpload(base, '/v1/AUTH_test/c/aborted', owner);
    requests++;

    // Temp URL signatures: every digest and form, every way to write the parameter's name.
    const path = '/v1/AUTH_test/c/o';
    const expires = Math.floor(Date.now() / 1000) + 3600;
    const signed: [string, string][] = [];
    for (const digest of ['sha1', 'sha256', 'sha512'] as const)
      for (const form of ['hex', 'b64', 'b64url'] as const)
        for (const key of [keys.account, keys.account2, keys.container, keys.container2]) signed.push([`temp_url_sig ${digest} ${form}`, sign(key, 'GET', path, expires, digest, form)]);
    for (const [label, sig] of signed) {
      secrets[label] = sig.replace(/^sha\d+:/, '');
      const r = await send('GET', `${path}?temp_url_sig=${encodeURIComponent(sig)}&temp_url_expires=${expires}`);
      expect(r.status, label).toBe(200);
    }
    const sig = sign(keys.account, 'GET', path, expires, 'sha256', 'hex');
    // Names percent-encoded (swob decodes them, and tempurl accepts them), in any case.
    for (const name of ['temp%5Furl%5Fsig', '%74%65%6D%70%5F%75%72%6C%5F%73%69%67', 'temp_url_%73ig']) {
      expect((await send('GET', `${path}?${name}=${sig}&temp_url_expires=${expires}`)).status, name).toBe(200);
    }
    // The value percent-encoded byte by byte, and a signature that is wrong.
    const pct = [...sig].map((ch) => `%${ch.charCodeAt(0).toString(16)}`).join('');
    expect((await send('GET', `${path}?temp_url_sig=${pct}&temp_url_expires=${expires}`)).status).toBe(200);
    secrets['temp_url_sig (sha256 hex)'] = sig;
    const others: Record<string, string> = { TEMP_URL_SIG: secret(), Temp_Url_Sig: secret(), swiftinfo_sig: secret(), 'multipart-manifest-sig': secret(), signature: secret(), Signature: secret(), 'X-Amz-Signature': secret() };
    for (const [name, value] of Object.entries(others)) {
      secrets[`query ${name}`] = value;
      expect((await send('GET', `${path}?${name}=${value}&temp_url_expires=${expires}`)).status, name).toBeLessThan(500);
    }
    const twice = [secret(), secret()];
    secrets['temp_url_sig, first of two'] = twice[0]!;
    secrets['temp_url_sig, second of two'] = twice[1]!;
    expect((await send('GET', `${path}?temp_url_sig=${twice[0]}&temp_url_expires=${expires}&temp_url_sig=${twice[1]}`)).status).toBe(401);
    const wrong = secret();
    secrets['a wrong temp_url_sig'] = wrong;
    expect((await send('GET', `${path}?temp_url_sig=${wrong}&temp_url_expires=${expires}`)).status).toBe(401);
    // A page opened through a temp URL sends it as the Referer.
    const ref = secret();
    secrets['temp_url_sig in a Referer'] = ref;
    expect((await send('GET', path, { ...owner, Referer: `https://example.com${path}?temp%5Furl_sig=${ref}&temp_url_expires=1#top` })).status).toBe(200);

    await waitFor(() => logs.access().length >= requests);
    const text = logs.text();
    expect(logs.access().length).toBe(requests);
    expect(leaks(text, secrets, reveal)).toEqual([]);
    // What may show: nothing, or (reveal_sensitive_prefix) the first characters and "...".
    const lines = logs.access();
    const tokenLine = lines.find((l) => l.method === 'HEAD');
    expect(tokenLine?.auth_token).toBe(reveal ? `${token.slice(0, reveal)}...` : '***');
    const refLine = lines.find((l) => String(l.referer ?? '').startsWith('https://example.com'));
    expect(refLine?.referer).toBe(`https://example.com${path}?temp%5Furl_sig=${reveal ? `${ref.slice(0, reveal)}...` : '***'}&temp_url_expires=1#top`);
    // The check itself finds a secret that is there.
    expect(leaks(`${text} ${encodeURIComponent(keys.sync).toUpperCase()}`, secrets, reveal)).toEqual(['X-Container-Sync-Key']);
    expect(leaks(Buffer.from(token).toString('base64'), { token }, 0)).toEqual(['token']);
  });
});

const ks = await findKeystone();
describe.skipIf(!ks.ok)('authtoken and keystoneauth (real Keystone)', () => {
  const logs = new CapturedLogs();
  let cl: TestCluster;
  let tokens: TokenBox;
  beforeAll(async () => {
    if (!ks.ok) return;
    tokens = new TokenBox(ks.fixtures);
    cl = await startCluster({ proxyConfig: keystoneProxyConf(ks.fixtures), accessLogger: logs.accessLogger, logger: logs.logger });
  });
  afterAll(() => cl?.stop());

  it('finds neither user tokens, service tokens nor the service password in the logs', { timeout: 30_000 }, async () => {
    if (!ks.ok) return;
    const f = ks.fixtures;
    const operator = await tokens.get('operator-a');
    const serviceToken = await tokens.get('sluice');
    const account = `AUTH_${f.users['operator-a']!.project_id}`;
    const secrets: Record<string, string> = {
      'operator token': operator,
      'service token': serviceToken,
      'authtoken password (config)': f.authtoken.password,
      'operator password': f.users['operator-a']!.password,
    };
    const sent: number[] = [];
    const send = async (method: string, path: string, headers: Record<string, string>) => sent.push((await call(cl.url, method, path, headers)).status);
    await send('PUT', `/v1/${account}/redact`, { 'X-Auth-Token': operator });
    await send('GET', `/v1/${account}/redact`, { 'X-Auth-Token': operator, 'X-Service-Token': serviceToken });
    await send('GET', `/v1/${account}`, { 'X-Storage-Token': operator });
    const forged = `${operator.slice(0, -8)}${secret().slice(0, 8)}`;
    secrets['a forged token'] = forged;
    await send('GET', `/v1/${account}`, { 'X-Auth-Token': forged });
    const junk = secret();
    secrets['a junk service token'] = junk;
    await send('GET', `/v1/${account}`, { 'X-Auth-Token': operator, 'X-Service-Token': junk });
    expect(sent).toEqual([201, 204, 200, 401, 401]);
    await waitFor(() => logs.access().length >= sent.length);
    expect(leaks(logs.text(), secrets)).toEqual([]);
    expect(logs.access().map((l) => l.auth_token)).toEqual(['***', '***', '***', '***', '***']);
  });
});
