/**
 * The Session's transport against servers that misbehave on purpose (startFakeServer): status
 * and connection retries with backoff, timeouts, TLS (a self-signed certificate made with the
 * openssl CLI), the User-Agent, and the redaction of every secret in the logger's lines.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeServer, type FakeBehaviour, type FakeServer } from '../../src/testing/index';
import { ClientConnectionError, ClientHttpError, ClientTimeoutError, ClientTlsError, Session, StaticToken, TempAuth } from '../../src/client/index';
import { Backoff, retryAfterMs } from '../../src/client/transport';

const sessions: Session[] = [];
const servers: { close(): Promise<void> | void }[] = [];

function session(opts: ConstructorParameters<typeof Session>[0]): Session {
  const s = new Session(opts);
  sessions.push(s);
  return s;
}

/** A fake server whose n-th request (0-based) gets `plan[n]`, and the last entry after that. */
async function scripted(plan: FakeBehaviour[]): Promise<FakeServer> {
  let n = 0;
  const fake = await startFakeServer({ behaviour: () => plan[Math.min(n++, plan.length - 1)]! });
  servers.push(fake);
  return fake;
}

const ok: FakeBehaviour = { kind: 'status', status: 200, body: 'ok' };
const unavailable = (headers: Record<string, string> = {}): FakeBehaviour => ({ kind: 'status', status: 503, body: 'busy', headers });

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await Promise.all(servers.map((s) => s.close()));
});

describe('status retries', () => {
  it('retries a 503 on an idempotent request when statusCodeRetries allows it', async () => {
    const fake = await scripted([unavailable(), unavailable(), ok]);
    const s = session({ endpointOverride: fake.url, statusCodeRetries: 2, retryDelay: 5 });
    const res = await s.request('/x', { authenticated: false });
    expect([res.status, await res.text()]).toEqual([200, 'ok']);
    expect(fake.requests.map((r) => r.behaviour)).toEqual(['status', 'status', 'status']);
    expect(fake.requests).toHaveLength(3);
  });

  it('does not retry by default (keystoneauth: status_code_retries=0), nor a POST, nor a stream body', async () => {
    const fake = await scripted([unavailable()]);
    const s = session({ endpointOverride: fake.url });
    const err = (await s.request('/x', { authenticated: false }).catch((e: unknown) => e)) as ClientHttpError;
    expect(err).toBeInstanceOf(ClientHttpError);
    expect([err.status, err.body]).toEqual([503, 'busy']);
    const retrying = session({ endpointOverride: fake.url, statusCodeRetries: 3, retryDelay: 5 });
    await expect(retrying.request('/x', { method: 'POST', authenticated: false })).rejects.toMatchObject({ status: 503 });
    await expect(retrying.request('/x', { method: 'PUT', body: Readable.from([Buffer.from('s')]), authenticated: false })).rejects.toMatchObject({ status: 503 });
    expect(fake.requests).toHaveLength(3);
  });

  it('gives up after statusCodeRetries, and waits what Retry-After asks (logged)', async () => {
    const fake = await scripted([unavailable({ 'Retry-After': '1' })]);
    const lines: string[] = [];
    const s = session({ endpointOverride: fake.url, statusCodeRetries: 1, retryDelay: 5, logger: { debug: (l) => lines.push(l) } });
    await expect(s.request('/x', { authenticated: false })).rejects.toMatchObject({ status: 503 });
    expect(fake.requests).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('Retriable status code 503'))).toEqual(['Retriable status code 503. Retrying in 1.0s.']);
  });

  it('retries only the configured statuses', async () => {
    const fake = await scripted([{ kind: 'status', status: 500 }, ok]);
    const s = session({ endpointOverride: fake.url, statusCodeRetries: 1, retryDelay: 5, retriableStatusCodes: [503] });
    await expect(s.request('/x', { authenticated: false })).rejects.toMatchObject({ status: 500 });
    const dflt = session({ endpointOverride: fake.url, statusCodeRetries: 1, retryDelay: 5 });
    expect((await dflt.request('/x', { authenticated: false })).status).toBe(200);
  });

  it('backs off exponentially from 0.5 s, capped at 60 s, and reads Retry-After in both forms', () => {
    const b = new Backoff();
    expect(Array.from({ length: 10 }, () => b.take())).toEqual([500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    b.reset();
    expect(b.take()).toBe(500);
    expect(retryAfterMs('7')).toBe(7000);
    expect(retryAfterMs(new Date(1_000_000 + 3000).toUTCString(), 1_000_000)).toBe(3000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

describe('connection failures', () => {
  it('retries a reset connection with connectRetries, and not without', async () => {
    const fake = await scripted([{ kind: 'reset', after: 0, on: 'request' }, ok]);
    const s = session({ endpointOverride: fake.url, connectRetries: 1, retryDelay: 5 });
    expect((await s.request('/x', { method: 'PUT', body: 'abc', authenticated: false })).status).toBe(200);
    expect(fake.requests).toHaveLength(2);
    await fake.setBehaviour({ kind: 'reset', after: 0, on: 'request' });
    const once = session({ endpointOverride: fake.url });
    await expect(once.request('/x', { authenticated: false })).rejects.toBeInstanceOf(ClientConnectionError);
    expect(fake.requests).toHaveLength(3);
  });

  it('does not resend a stream body after a reset', async () => {
    const fake = await scripted([{ kind: 'reset', after: 0, on: 'request' }, ok]);
    const s = session({ endpointOverride: fake.url, connectRetries: 3, retryDelay: 5 });
    await expect(s.request('/x', { method: 'PUT', body: Readable.from([Buffer.alloc(1024)]), authenticated: false })).rejects.toBeInstanceOf(ClientConnectionError);
    expect(fake.requests).toHaveLength(1);
  });

  it('fails with ClientConnectionError when nothing listens, after its retries', async () => {
    const fake = await scripted([ok]);
    await fake.setBehaviour({ kind: 'refuse' });
    const lines: string[] = [];
    const s = session({ endpointOverride: fake.url, connectRetries: 2, retryDelay: 5, logger: { debug: (l) => lines.push(l) } });
    const err = (await s.request('/x', { authenticated: false }).catch((e: unknown) => e)) as ClientConnectionError;
    expect(err).toBeInstanceOf(ClientConnectionError);
    expect(err.message).toContain(`Unable to establish connection to ${fake.url}/x`);
    expect(lines.filter((l) => l.startsWith('Failure:'))).toHaveLength(2);
  });
});

describe('timeouts', () => {
  it('applies the Session timeout and a per-request one', async () => {
    const fake = await scripted([{ kind: 'hang' }]);
    const s = session({ endpointOverride: fake.url, timeout: 300 });
    await expect(s.request('/x', { authenticated: false })).rejects.toBeInstanceOf(ClientTimeoutError);
    const long = session({ endpointOverride: fake.url, timeout: 120_000 });
    const err = (await long.request('/x', { authenticated: false, timeout: 300 }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ClientTimeoutError);
    expect(err.message).toBe(`Request to ${fake.url}/x (GET) timed out`);
  });

  it('a body that stops mid-way fails the reader after the timeout', async () => {
    const server = createHttpServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': '10' });
      res.write('abc');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push({ close: () => new Promise<void>((r) => server.close(() => r()).closeAllConnections()) });
    const s = session({ endpointOverride: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timeout: 300 });
    const res = await s.request('/x', { authenticated: false });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
  });

  it('aborts with the caller signal', async () => {
    const fake = await scripted([{ kind: 'hang' }]);
    const s = session({ endpointOverride: fake.url });
    await expect(s.request('/x', { authenticated: false, signal: AbortSignal.timeout(200) })).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});

describe('TLS', () => {
  let dir: string;
  let pem: { cert: string; key: string };
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-client-tls-'));
    servers.push({ close: () => rmSync(dir, { recursive: true, force: true }) });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    pem = { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
    // The same self-signed certificate serves as the server's and as the CA of client certificates.
    const server: Server = createServer({ ...pem, ca: pem.cert, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).authorized ? 'client-cert' : 'anonymous';
      res.end(`tls ${peer}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push({ close: () => new Promise<void>((r) => server.close(() => r())) });
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  it('refuses an unknown certificate, accepts it with ca (PEM text or file) or insecure', async () => {
    const lines: string[] = [];
    const untrusted = session({ endpointOverride: url, connectRetries: 2, retryDelay: 5, logger: { debug: (l) => lines.push(l) } });
    const err = (await untrusted.request('/', { authenticated: false }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ClientTlsError);
    expect(err.message).toContain('self-signed certificate');
    // keystoneauth does not retry an SSLError: it would fail the same way.
    expect(lines.filter((l) => l.startsWith('REQ:'))).toHaveLength(1);
    expect(await (await session({ endpointOverride: url, ca: pem.cert }).request('/', { authenticated: false })).text()).toBe('tls anonymous');
    expect(await (await session({ endpointOverride: url, ca: join(dir, 'cert.pem') }).request('/', { authenticated: false })).text()).toBe('tls anonymous');
    lines.length = 0;
    const insecure = session({ endpointOverride: url, insecure: true, logger: { debug: (l) => lines.push(l) } });
    expect(await (await insecure.request('/', { authenticated: false })).text()).toBe('tls anonymous');
    expect(lines[0]).toMatch(/^REQ: curl -g -i --insecure -X GET /);
  });

  it('presents a client certificate (cert, key)', async () => {
    const s = session({ endpointOverride: url, ca: pem.cert, cert: pem.cert, key: join(dir, 'key.pem') });
    expect(await (await s.request('/', { authenticated: false })).text()).toBe('tls client-cert');
  });
});

describe('the logger', () => {
  const sha = (v: string) => `{SHA256}${createHash('sha256').update(v).digest('hex')}`;

  it('redacts tokens (hashed as keystoneauth prints them), keys and temp-URL signatures in requests and answers', async () => {
    const secrets = {
      userKey: 'tempauth-key-1',
      authToken: 'AUTH_tk-answer-token',
      storageToken: 'AUTH_tk-answer-token',
      subject: 'subject-token-2',
      service: 'service-token-3',
      storagePass: 'storage-pass-4',
      bearer: 'Bearer abc-5',
      accountKey: 'account-tempurl-key-6',
      syncKey: 'container-sync-key-6b',
      containerKey: 'container-tempurl-key-7',
      sig: 'deadbeefcafe0123456789',
    };
    const fake = await scripted([
      {
        kind: 'status',
        status: 200,
        headers: { 'X-Auth-Token': secrets.authToken, 'X-Storage-Token': secrets.storageToken, 'X-Storage-Url': 'http://127.0.0.1:1/v1/AUTH_t', 'X-Auth-Token-Expires': '3600' },
      },
      { kind: 'status', status: 200, headers: { 'X-Subject-Token': secrets.subject, 'X-Container-Meta-Temp-URL-Key': secrets.containerKey } },
    ]);
    const lines: string[] = [];
    const s = session({ auth: new TempAuth({ authUrl: `${fake.url}/auth/v1.0`, user: 'a:b', key: secrets.userKey }), endpointOverride: fake.url, logger: { debug: (l) => lines.push(l) } });
    await s.request(`/v1/AUTH_t/c/o?temp_url_sig=${secrets.sig}&temp_url_expires=99`, {
      method: 'POST',
      headers: {
        'X-Service-Token': secrets.service,
        'X-Storage-Pass': secrets.storagePass,
        Authorization: secrets.bearer,
        'X-Account-Meta-Temp-URL-Key': secrets.accountKey,
        'X-Container-Sync-Key': secrets.syncKey,
      },
    });
    const all = lines.join('\n');
    for (const v of Object.values(secrets)) expect(all).not.toContain(v);
    // What reached the server was the real thing.
    expect(fake.requests[0]!.headers['x-auth-key']).toBe(secrets.userKey);
    expect(fake.requests[1]!.headers['x-auth-token']).toBe(secrets.authToken);
    expect(fake.requests[1]!.path).toContain(`temp_url_sig=${secrets.sig}`);
    const [authReq, authResp, req, resp] = lines;
    expect(authReq).toContain('-H "X-Auth-Key: ***"');
    expect(authReq).toContain('-H "X-Auth-User: a:b"');
    expect(authResp).toContain(`x-auth-token: ${sha(secrets.authToken)}`);
    expect(authResp).toContain(`x-storage-token: ${sha(secrets.storageToken)}`);
    expect(req).toContain(`-H "X-Auth-Token: ${sha(secrets.authToken)}"`);
    expect(req).toContain(`-H "X-Service-Token: ${sha(secrets.service)}"`);
    expect(req).toContain(`-H "Authorization: ${sha(secrets.bearer)}"`);
    expect(req).toContain('-H "X-Storage-Pass: ***"');
    expect(req).toContain('-H "X-Account-Meta-Temp-URL-Key: ***"');
    expect(req).toContain('-H "X-Container-Sync-Key: ***"');
    expect(req).toContain(`temp_url_sig=${sha(secrets.sig)}&temp_url_expires=99`);
    expect(resp).toContain(`x-subject-token: ${sha(secrets.subject)}`);
    expect(resp).toContain('x-container-meta-temp-url-key: ***');
    expect(resp).toMatch(/^RESP: \[200\] POST /);
  });

  it('redacts the URL of an HTTP error too, and works with a pino logger', async () => {
    const fake = await scripted([{ kind: 'status', status: 401, body: 'no' }]);
    const out: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out.push(String(chunk));
        cb();
      },
    });
    const s = session({ auth: new StaticToken({ token: 'static-secret-token', endpoint: fake.url }), logger: pino({ level: 'debug' }, sink) });
    const err = (await s.request('/o?temp_url_sig=topsecretsig&temp_url_expires=1').catch((e: unknown) => e)) as ClientHttpError;
    expect(err.status).toBe(401);
    expect(err.url).toBe(`${fake.url}/o?temp_url_sig=${sha('topsecretsig')}&temp_url_expires=1`);
    expect(err.message).not.toContain('topsecretsig');
    const all = out.join('');
    expect(out.length).toBe(2);
    expect(all).not.toContain('static-secret-token');
    expect(all).not.toContain('topsecretsig');
    expect(all).toContain(sha('static-secret-token'));
  });

  it('sends sluice-client/<version> as the User-Agent, after the application part', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const fake = await scripted([ok]);
    await session({ endpointOverride: fake.url }).request('/', { authenticated: false });
    await session({ endpointOverride: fake.url, userAgent: 'app/1 extra/2' }).request('/', { authenticated: false });
    await session({ endpointOverride: fake.url, userAgent: 'app/1' }).request('/', { authenticated: false, headers: { 'user-agent': 'mine' } });
    expect(fake.requests.map((r) => r.headers['user-agent'])).toEqual([`sluice-client/${version}`, `app/1 extra/2 sluice-client/${version}`, 'mine']);
  });

  it("sends the plugin's token in place of a caller's X-Auth-Token of any spelling", async () => {
    const fake = await scripted([ok]);
    const s = session({ auth: new StaticToken({ token: 'plugin-token', endpoint: fake.url }) });
    await s.request('/', { headers: { 'x-auth-token': 'caller-token', 'X-Object-Meta-A': 'b' } });
    expect(fake.requests[0]!.headers).toMatchObject({ 'x-auth-token': 'plugin-token', 'x-object-meta-a': 'b' });
  });
});
