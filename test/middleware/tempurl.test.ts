/**
 * tempurl through a whole cluster (dev pipeline with tempurl before tempauth, as in Swift's
 * sample pipeline): signed URLs with account and container keys, each digest and form,
 * prefix and IP-range URLs, expiry, Swift's 401 "Temp URL invalid", the key's scope, header
 * filtering and Content-Disposition, and the /info section.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { DEV_PROXY_CONF } from '../../src/cluster/dev-cluster';
import { parseExpires, extractDigest, parseNetwork } from '../../src/middleware/tempurl';
import { send, Session } from '../conformance/replayer';
import { direct } from '../proxy/helpers';

/** DEV_PROXY_CONF (tempurl before auth, as Swift's sample pipeline) with extra tempurl options. */
function confWithTempurl(section = ''): string {
  const conf = DEV_PROXY_CONF.replace('[filter:tempurl]\nuse = egg:swift#tempurl\n', `[filter:tempurl]\nuse = egg:swift#tempurl\n${section}`);
  if (section && !conf.includes(section)) throw new Error('tempurl section not found in DEV_PROXY_CONF');
  return conf;
}

const ACCOUNT_KEY = 'account-secret';
const ACCOUNT_KEY_2 = 'account-secret-2';

let cluster: TestCluster;
let tok: string;
let tok3: string;
let seq = 0;

beforeAll(async () => {
  cluster = await startCluster({ proxyConfig: confWithTempurl() });
  const session = new Session(cluster.url);
  tok = (await session.login('test:tester')).token;
  tok3 = (await session.login('test:tester3')).token;
  const res = await send(cluster.url, 'POST', '/v1/AUTH_test', { 'X-Auth-Token': tok, 'X-Account-Meta-Temp-URL-Key': ACCOUNT_KEY, 'X-Account-Meta-Temp-URL-Key-2': ACCOUNT_KEY_2 });
  expect(res.status).toBe(204);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const authed = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => send(cluster.url, method, path, { 'X-Auth-Token': tok, ...headers }, body);
const anon = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => send(cluster.url, method, path, headers, body);

async function container(headers: Record<string, string> = {}): Promise<string> {
  seq += 1;
  const c = `tu${process.pid}x${seq}x${Math.random().toString(36).slice(2, 7)}`;
  expect((await authed('PUT', `/v1/AUTH_test/${c}`, headers)).status).toBe(201);
  return c;
}

interface SignOpts {
  digest?: 'sha1' | 'sha256' | 'sha512';
  form?: 'hex' | 'b64' | 'b64url';
  ipRange?: string;
  expires?: number;
}

const future = () => Math.floor(Date.now() / 1000) + 3600;

/** A client's signature (as swift's `swift tempurl` makes it) for `path` (unquoted). */
function sign(method: string, path: string, key: string, opts: SignOpts = {}): { sig: string; expires: number } {
  const expires = opts.expires ?? future();
  const digest = opts.digest ?? 'sha256';
  const body = `${opts.ipRange ? `ip=${opts.ipRange}\n` : ''}${method}\n${expires}\n${path}`;
  const mac = createHmac(digest, key).update(body, 'utf8').digest();
  const form = opts.form ?? 'hex';
  let sig: string;
  if (form === 'hex') sig = mac.toString('hex');
  else if (form === 'b64') sig = `${digest}:${mac.toString('base64')}`;
  else sig = `${digest}:${mac.toString('base64url')}`;
  return { sig, expires };
}

function tempUrl(method: string, path: string, key: string, opts: SignOpts = {}, extra = ''): string {
  const { sig, expires } = sign(method, path, key, opts);
  return `${path}?temp_url_sig=${encodeURIComponent(sig)}&temp_url_expires=${expires}${opts.ipRange ? `&temp_url_ip_range=${encodeURIComponent(opts.ipRange)}` : ''}${extra}`;
}

function expectInvalid(res: { status: number; headers: Record<string, string>; body: Buffer }, method = 'GET'): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Swift realm="unknown"');
  if (method === 'HEAD') expect(res.body.length).toBe(0);
  else expect(res.body.toString()).toBe('401 Unauthorized: Temp URL invalid\n');
}

describe('/info', () => {
  it('registers the tempurl section as Swift 2.30 does', async () => {
    const res = await anon('GET', '/info');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString()).tempurl).toEqual({
      methods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
      incoming_remove_headers: ['x-timestamp'],
      incoming_allow_headers: [],
      outgoing_remove_headers: ['x-object-meta-*'],
      outgoing_allow_headers: ['x-object-meta-public-*'],
      allowed_digests: ['sha1', 'sha256', 'sha512'],
      deprecated_digests: ['sha1'],
    });
  });
});

describe('signatures', () => {
  let c: string;
  let path: string;
  beforeAll(async () => {
    c = await container();
    path = `/v1/AUTH_test/${c}/obj`;
    expect((await authed('PUT', path, { 'Content-Type': 'text/plain' }, 'hello tempurl')).status).toBe(201);
  });

  it('without a token the object is private', async () => {
    expect((await anon('GET', path)).status).toBe(401);
  });

  for (const [digest, form] of [
    ['sha1', 'hex'],
    ['sha256', 'hex'],
    ['sha512', 'hex'],
    ['sha1', 'b64'],
    ['sha256', 'b64'],
    ['sha512', 'b64'],
    ['sha512', 'b64url'],
  ] as const) {
    it(`GET with a ${digest} ${form} signature`, async () => {
      const url = tempUrl('GET', path, ACCOUNT_KEY, { digest, form });
      const res = await anon('GET', url);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('hello tempurl');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="obj"; filename*=UTF-8''obj`);
      const expires = Number(new URL(url, 'http://x').searchParams.get('temp_url_expires'));
      expect(res.headers['expires']).toBe(new Date(expires * 1000).toUTCString());
    });
  }

  it('accepts the second account key', async () => {
    expect((await anon('GET', tempUrl('GET', path, ACCOUNT_KEY_2))).status).toBe(200);
  });

  it('accepts an ISO 8601 expiry (the signature is over the Unix time)', async () => {
    const expires = Math.floor(Date.now() / 1000) + 3600;
    const { sig } = sign('GET', path, ACCOUNT_KEY, { expires });
    const iso = new Date(expires * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const res = await anon('GET', `${path}?temp_url_sig=${sig}&temp_url_expires=${iso}`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello tempurl');
  });

  it('refuses expired URLs, bad signatures, unknown keys and missing parameters with 401', async () => {
    const past = Math.floor(Date.now() / 1000) - 10;
    expectInvalid(await anon('GET', tempUrl('GET', path, ACCOUNT_KEY, { expires: past })));
    expectInvalid(await anon('HEAD', tempUrl('GET', path, ACCOUNT_KEY, { expires: past })), 'HEAD');
    expectInvalid(await anon('GET', tempUrl('GET', path, 'not-the-key')));
    // Signed for another object.
    const other = tempUrl('GET', `/v1/AUTH_test/${c}/other`, ACCOUNT_KEY);
    expectInvalid(await anon('GET', `${path}${other.slice(other.indexOf('?'))}`));
    const { sig, expires } = sign('GET', path, ACCOUNT_KEY);
    expectInvalid(await anon('GET', `${path}?temp_url_sig=${sig}`));
    expectInvalid(await anon('GET', `${path}?temp_url_expires=${expires}`));
    expectInvalid(await anon('GET', `${path}?temp_url_sig=${sig}&temp_url_expires=soon`));
    // Upper-case hex is not what hexdigest gives: not equal.
    expectInvalid(await anon('GET', `${path}?temp_url_sig=${sig.toUpperCase()}&temp_url_expires=${expires}`));
    expectInvalid(await anon('GET', `${path}?temp_url_sig=${sig.slice(2)}&temp_url_expires=${expires}`));
    expectInvalid(await anon('GET', `${path}?temp_url_sig=md5:${Buffer.from(sig, 'hex').toString('base64')}&temp_url_expires=${expires}`));
    expectInvalid(await anon('GET', `${path}?temp_url_sig=sha256:not*base64&temp_url_expires=${expires}`));
  });

  it('allows only the signed method; HEAD passes with a GET, PUT or POST signature', async () => {
    expectInvalid(await anon('PUT', tempUrl('GET', path, ACCOUNT_KEY), {}, 'x'));
    expectInvalid(await anon('DELETE', tempUrl('GET', path, ACCOUNT_KEY)));
    for (const m of ['HEAD', 'GET', 'PUT', 'POST']) {
      const res = await anon('HEAD', tempUrl(m, path, ACCOUNT_KEY));
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe('13');
    }
    expectInvalid(await anon('HEAD', tempUrl('DELETE', path, ACCOUNT_KEY)), 'HEAD');
  });

  it('is for objects only, with the configured methods', async () => {
    expectInvalid(await anon('GET', tempUrl('GET', `/v1/AUTH_test/${c}`, ACCOUNT_KEY)));
    expectInvalid(await anon('GET', tempUrl('GET', '/v1/AUTH_test', ACCOUNT_KEY)));
    expectInvalid(await anon('COPY', tempUrl('COPY', path, ACCOUNT_KEY)));
  });

  it('requests without tempurl parameters are untouched', async () => {
    const res = await authed('GET', path);
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toBeUndefined();
  });
});

describe('prefix URLs', () => {
  it('are valid for every object under the prefix only', async () => {
    const c = await container();
    for (const o of ['pre/a', 'pre/sub/b', 'prefixed', 'other']) expect((await authed('PUT', `/v1/AUTH_test/${c}/${o}`, {}, o)).status).toBe(201);
    const { sig, expires } = sign('GET', `prefix:/v1/AUTH_test/${c}/pre`, ACCOUNT_KEY);
    const q = `?temp_url_sig=${sig}&temp_url_expires=${expires}&temp_url_prefix=pre`;
    for (const o of ['pre/a', 'pre/sub/b', 'prefixed']) {
      const res = await anon('GET', `/v1/AUTH_test/${c}/${o}${q}`);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe(o);
    }
    expectInvalid(await anon('GET', `/v1/AUTH_test/${c}/other${q}`));
    // The prefix is part of what is signed.
    expectInvalid(await anon('GET', `/v1/AUTH_test/${c}/pre/a?temp_url_sig=${sig}&temp_url_expires=${expires}&temp_url_prefix=pre/`));
    // A prefix signature is not an object signature.
    expectInvalid(await anon('GET', `/v1/AUTH_test/${c}/pre?temp_url_sig=${sig}&temp_url_expires=${expires}`));
  });
});

describe('IP ranges', () => {
  let path: string;
  beforeAll(async () => {
    const c = await container();
    path = `/v1/AUTH_test/${c}/obj`;
    expect((await authed('PUT', path, {}, 'ip')).status).toBe(201);
  });

  it('allows clients inside the signed range', async () => {
    for (const ipRange of ['127.0.0.1', '127.0.0.0/8', '127.0.0.0/255.0.0.0']) {
      const res = await anon('GET', tempUrl('GET', path, ACCOUNT_KEY, { ipRange }));
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('ip');
    }
  });

  it('refuses clients outside it, malformed ranges and a range that was not signed', async () => {
    expectInvalid(await anon('GET', tempUrl('GET', path, ACCOUNT_KEY, { ipRange: '10.0.0.0/8' })));
    expectInvalid(await anon('GET', tempUrl('GET', path, ACCOUNT_KEY, { ipRange: '::1' })));
    // Host bits set: Python's ip_network refuses it.
    expectInvalid(await anon('GET', tempUrl('GET', path, ACCOUNT_KEY, { ipRange: '127.0.0.1/8' })));
    expectInvalid(await anon('GET', tempUrl('GET', path, ACCOUNT_KEY, { ipRange: 'localhost' })));
    // Signed without a range, used with one.
    expectInvalid(await anon('GET', `${tempUrl('GET', path, ACCOUNT_KEY)}&temp_url_ip_range=127.0.0.1`));
  });
});

describe('container keys', () => {
  it('sign for their own container only; account keys sign for the whole account', async () => {
    const a = await container({ 'X-Container-Meta-Temp-URL-Key': 'ckey-a', 'X-Container-Meta-Temp-URL-Key-2': 'ckey-a2' });
    const b = await container();
    for (const c of [a, b]) expect((await authed('PUT', `/v1/AUTH_test/${c}/o`, {}, c)).status).toBe(201);
    expect((await anon('GET', tempUrl('GET', `/v1/AUTH_test/${a}/o`, 'ckey-a'))).status).toBe(200);
    expect((await anon('GET', tempUrl('GET', `/v1/AUTH_test/${a}/o`, 'ckey-a2'))).status).toBe(200);
    expectInvalid(await anon('GET', tempUrl('GET', `/v1/AUTH_test/${b}/o`, 'ckey-a')));
    expect((await anon('GET', tempUrl('GET', `/v1/AUTH_test/${b}/o`, ACCOUNT_KEY))).status).toBe(200);
  });

  it('a container-key URL cannot follow a symlink out of its container; an account-key URL can', async () => {
    const a = await container({ 'X-Container-Meta-Temp-URL-Key': 'ckey-link' });
    const b = await container();
    expect((await authed('PUT', `/v1/AUTH_test/${b}/target`, {}, 'secret target')).status).toBe(201);
    expect((await authed('PUT', `/v1/AUTH_test/${a}/link`, { 'X-Symlink-Target': `${b}/target` }, '')).status).toBe(201);
    const denied = await anon('GET', tempUrl('GET', `/v1/AUTH_test/${a}/link`, 'ckey-link'));
    expect(denied.status).toBe(401);
    expect(denied.body.toString()).not.toContain('secret target');
    const allowed = await anon('GET', tempUrl('GET', `/v1/AUTH_test/${a}/link`, ACCOUNT_KEY));
    expect(allowed.status).toBe(200);
    expect(allowed.body.toString()).toBe('secret target');
    // The query is reduced to the tempurl parameters: ?symlink=get is dropped, the link is followed.
    const viaLink = await anon('GET', tempUrl('GET', `/v1/AUTH_test/${a}/link`, ACCOUNT_KEY, {}, '&symlink=get'));
    expect(viaLink.status).toBe(200);
    expect(viaLink.body.toString()).toBe('secret target');
  });

  it('are only visible to owners', async () => {
    const c = await container({ 'X-Container-Meta-Temp-URL-Key': 'hidden-key', 'X-Container-Read': 'test:tester3' });
    const owner = await authed('HEAD', `/v1/AUTH_test/${c}`);
    expect(owner.headers['x-container-meta-temp-url-key']).toBe('hidden-key');
    const reader = await send(cluster.url, 'HEAD', `/v1/AUTH_test/${c}`, { 'X-Auth-Token': tok3 });
    expect(reader.status).toBe(204);
    expect(reader.headers['x-container-meta-temp-url-key']).toBeUndefined();
    // Nor does a tempurl GET make its user an owner.
    expect((await authed('PUT', `/v1/AUTH_test/${c}/o`, {}, 'x')).status).toBe(201);
    const tu = await anon('GET', tempUrl('GET', `/v1/AUTH_test/${c}/o`, 'hidden-key'));
    expect(tu.status).toBe(200);
  });

  it('without any key every tempurl is invalid', async () => {
    const res = await anon('GET', tempUrl('GET', '/v1/AUTH_nokeys/c/o', ACCOUNT_KEY));
    expectInvalid(res);
  });
});

describe('Content-Disposition', () => {
  let c: string;
  beforeAll(async () => {
    c = await container();
    expect((await authed('PUT', `/v1/AUTH_test/${c}/dir/plain.txt`, {}, 'p')).status).toBe(201);
    expect((await authed('PUT', `/v1/AUTH_test/${c}/own`, { 'Content-Disposition': 'attachment; filename=stored.bin' }, 'o')).status).toBe(201);
  });

  it('is the object name, the object\'s own, the filename parameter, or inline', async () => {
    const p = `/v1/AUTH_test/${c}/dir/plain.txt`;
    expect((await anon('GET', tempUrl('GET', p, ACCOUNT_KEY))).headers['content-disposition']).toBe(`attachment; filename="plain.txt"; filename*=UTF-8''plain.txt`);
    expect((await anon('GET', tempUrl('GET', `/v1/AUTH_test/${c}/own`, ACCOUNT_KEY))).headers['content-disposition']).toBe('attachment; filename=stored.bin');
    expect((await anon('GET', tempUrl('GET', p, ACCOUNT_KEY, {}, '&filename=My+Test%20File%C3%A9.pdf'))).headers['content-disposition']).toBe(
      `attachment; filename="My Test File%C3%A9.pdf"; filename*=UTF-8''My%20Test%20File%C3%A9.pdf`,
    );
    expect((await anon('GET', tempUrl('GET', p, ACCOUNT_KEY, {}, '&inline'))).headers['content-disposition']).toBe('inline');
    expect((await anon('HEAD', tempUrl('GET', p, ACCOUNT_KEY, {}, '&inline&filename=a b.txt'.replace(' ', '%20')))).headers['content-disposition']).toBe(
      `inline; filename="a b.txt"; filename*=UTF-8''a%20b.txt`,
    );
    // Not on errors.
    const missing = await anon('GET', tempUrl('GET', `/v1/AUTH_test/${c}/missing`, ACCOUNT_KEY));
    expect(missing.status).toBe(404);
    expect(missing.headers['content-disposition']).toBeUndefined();
    expect(missing.headers['expires']).toBeUndefined();
  });
});

describe('writes and header filtering', () => {
  it('PUT via tempurl creates the object; X-Timestamp is dropped; POST and DELETE work', async () => {
    const c = await container();
    const path = `/v1/AUTH_test/${c}/uploaded`;
    const put = await anon('PUT', tempUrl('PUT', path, ACCOUNT_KEY), { 'Content-Type': 'text/x-up', 'X-Timestamp': '1000000000.00000', 'X-Object-Meta-Color': 'red' }, 'uploaded body');
    expect(put.status).toBe(201);
    const get = await authed('GET', path);
    expect(get.status).toBe(200);
    expect(get.body.toString()).toBe('uploaded body');
    expect(get.headers['content-type']).toBe('text/x-up');
    expect(get.headers['x-object-meta-color']).toBe('red');
    for (const r of await direct(cluster.proxy.state.rings.object.get(0)!, 'HEAD', ['AUTH_test', c, 'uploaded'])) {
      expect(r.status).toBe(200);
      expect(r.headers['x-timestamp']).not.toBe('1000000000.00000');
    }
    expect((await anon('POST', tempUrl('POST', path, ACCOUNT_KEY), { 'X-Object-Meta-Public-Shade': 'dark', 'X-Object-Meta-Private': 'p' })).status).toBe(202);
    // Outgoing: x-object-meta-* removed except x-object-meta-public-*.
    const viaTu = await anon('GET', tempUrl('GET', path, ACCOUNT_KEY));
    expect(viaTu.status).toBe(200);
    expect(viaTu.headers['x-object-meta-public-shade']).toBe('dark');
    expect(viaTu.headers['x-object-meta-private']).toBeUndefined();
    expect((await authed('HEAD', path)).headers['x-object-meta-private']).toBe('p');
    expect((await anon('DELETE', tempUrl('DELETE', path, ACCOUNT_KEY))).status).toBe(204);
    expect((await authed('GET', path)).status).toBe(404);
  });

  it('refuses pointer headers on writes with 400', async () => {
    const c = await container();
    const path = `/v1/AUTH_test/${c}/ptr`;
    for (const [h, v] of [
      ['X-Object-Manifest', `${c}/seg`],
      ['X-Symlink-Target', `${c}/other`],
      ['X-Copy-From', `${c}/other`],
    ]) {
      const res = await anon('PUT', tempUrl('PUT', path, ACCOUNT_KEY), { [h!]: v! }, '');
      expect(res.status).toBe(400);
      expect(res.body.toString()).toBe(`The header '${h}' is not allowed in this tempurl`);
    }
    expect((await authed('GET', path)).status).toBe(404);
  });

  it('a write to another container with a container key is refused', async () => {
    const a = await container({ 'X-Container-Meta-Temp-URL-Key': 'wkey' });
    const b = await container();
    expectInvalid(await anon('PUT', tempUrl('PUT', `/v1/AUTH_test/${b}/x`, 'wkey'), {}, 'x'));
    expect((await anon('PUT', tempUrl('PUT', `/v1/AUTH_test/${a}/x`, 'wkey'), {}, 'x')).status).toBe(201);
  });
});

describe('configuration', () => {
  let custom: TestCluster;
  let path: string;
  beforeAll(async () => {
    custom = await startCluster({
      proxyConfig: confWithTempurl('methods = GET HEAD\nallowed_digests = sha256 sha512\noutgoing_remove_headers = x-object-meta-* etag\noutgoing_allow_headers =\n'),
    });
    const session = new Session(custom.url);
    const t = (await session.login('test:tester')).token;
    expect((await send(custom.url, 'POST', '/v1/AUTH_test', { 'X-Auth-Token': t, 'X-Account-Meta-Temp-URL-Key': 'k' })).status).toBe(204);
    expect((await send(custom.url, 'PUT', '/v1/AUTH_test/c', { 'X-Auth-Token': t })).status).toBe(201);
    path = '/v1/AUTH_test/c/o';
    expect((await send(custom.url, 'PUT', path, { 'X-Auth-Token': t, 'X-Object-Meta-Public-A': 'a' }, 'body')).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await custom?.stop();
  });

  it('honours methods, allowed_digests and the outgoing header lists, and says so in /info', async () => {
    const info = JSON.parse((await send(custom.url, 'GET', '/info', {})).body.toString()).tempurl;
    expect(info.methods).toEqual(['GET', 'HEAD']);
    expect(info.allowed_digests).toEqual(['sha256', 'sha512']);
    expect(info.deprecated_digests).toBeUndefined();
    expect(info.outgoing_allow_headers).toEqual([]);
    const get = await send(custom.url, 'GET', tempUrl('GET', path, 'k'), {});
    expect(get.status).toBe(200);
    expect(get.headers['etag']).toBeUndefined();
    expect(get.headers['x-object-meta-public-a']).toBeUndefined();
    expectInvalid(await send(custom.url, 'GET', tempUrl('GET', path, 'k', { digest: 'sha1' }), {}));
    expectInvalid(await send(custom.url, 'PUT', tempUrl('PUT', path, 'k'), {}, 'new'));
  });
});

describe('parsing', () => {
  it('reads expiry times as Swift does', () => {
    expect(parseExpires('2017-12-05T21:16:03Z', 0)).toBe(1512508563);
    expect(parseExpires('2017-2-30T21:16:03Z', 0)).toBe(0);
    expect(parseExpires('2017-12-05 21:16:03', 0)).toBe(0);
    expect(parseExpires('+0012', 0)).toBe(12);
    expect(parseExpires('100', 200)).toBe(0);
  });

  it('extracts digests and checks networks strictly', () => {
    expect(extractDigest('a'.repeat(40))).toEqual(['sha1', 'a'.repeat(40)]);
    expect(extractDigest('a'.repeat(41))).toBeUndefined();
    expect(extractDigest('a'.repeat(42))).toBeUndefined();
    expect(extractDigest('sha256:_-8=')).toEqual(['sha256', 'ffef']);
    expect(parseNetwork('1.2.3.4/24')).toBeUndefined();
    expect(parseNetwork('1.2.3.0/24')).toBeDefined();
    expect(parseNetwork('2001:db8::/32')).toBeDefined();
    expect(parseNetwork('2001:db8::1/32')).toBeUndefined();
  });
});
