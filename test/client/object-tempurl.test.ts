/**
 * Temp URLs: the signed string is exactly what python-swiftclient's generate_temp_url gives
 * (differential, Debian's python3-swiftclient), and the URLs work against a cluster with
 * account and container keys.
 */
import { execFileSync } from 'node:child_process';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { generateTempUrl, ObjectClientUsageError, type TempUrlOptions } from '../../src/client/object/index';
import { useStoreCluster } from './token-session';

const PY = '/usr/bin/python3';

/** generate_temp_url for each case, in one Python run. */
function pythonTempUrls(cases: TempUrlOptions[]): string[] {
  const script = `
import json, sys
from swiftclient.utils import generate_temp_url
out = []
for c in json.load(sys.stdin):
    out.append(generate_temp_url(c['path'], c['expiresAt'], c['key'], c['method'], absolute=True,
        prefix=c.get('prefix', False), iso8601=c.get('iso8601', False), ip_range=c.get('ipRange'),
        digest=c.get('digest', 'sha256')))
print(json.dumps(out))
`;
  return JSON.parse(execFileSync(PY, ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' })) as string[];
}

describe('generateTempUrl matches swiftclient', () => {
  const cases: TempUrlOptions[] = [
    { method: 'GET', path: '/v1/AUTH_test/c/o', expiresAt: 1700000000, key: 'secret' },
    { method: 'get', path: '/v1/AUTH_test/c/dir/o', expiresAt: 1700000000, key: 'secret', digest: 'sha1' },
    { method: 'PUT', path: '/v1/AUTH_test/c/o', expiresAt: 1800000000, key: 'secret', digest: 'sha512' },
    { method: 'GET', path: '/v1/AUTH_test/c/ünï côdé', expiresAt: 1700000000, key: 'kéy', digest: 'sha256' },
    { method: 'GET', path: '/v1/AUTH_test/c/pre', expiresAt: 1700000000, key: 'secret', prefix: true },
    { method: 'GET', path: '/v1/AUTH_test/c/', expiresAt: 1700000000, key: 'secret', prefix: true, digest: 'sha512' },
    { method: 'HEAD', path: '/v1/AUTH_test/c/o', expiresAt: 1700000000, key: 'secret', ipRange: '127.0.0.0/8' },
    { method: 'GET', path: '/v1/AUTH_test/c/o', expiresAt: 1700000000, key: 'secret', iso8601: true },
    { method: 'DELETE', path: '/v1/AUTH_test/c/o', expiresAt: '2030-01-02T03:04:05Z', key: 'secret', digest: 'sha1', ipRange: '10.0.0.1' },
  ];

  it('gives the same string for every digest, prefix, ip range and time format', () => {
    const ours = cases.map(generateTempUrl);
    expect(ours).toEqual(pythonTempUrls(cases));
    expect(ours[2]).toMatch(/temp_url_sig=sha512:[A-Za-z0-9_-]+&/);
  });

  it('refuses what swiftclient refuses', () => {
    const base = { method: 'GET', key: 'k', expiresAt: 1 };
    expect(() => generateTempUrl({ ...base, path: '/v1/a/c' })).toThrow(ObjectClientUsageError);
    expect(() => generateTempUrl({ ...base, path: '/v1/a/c/' })).toThrow(/full path to an object/);
    expect(() => generateTempUrl({ ...base, path: '/v1/a//', prefix: true })).toThrow(/at least contain/);
    expect(() => generateTempUrl({ ...base, path: '/v1/a/c/o', digest: 'md5' as never })).toThrow(/digest/);
    expect(() => generateTempUrl({ method: 'GET', key: 'k', path: '/v1/a/c/o', seconds: 1.5 })).toThrow(/whole number/);
    expect(() => generateTempUrl({ method: 'GET', key: 'k', path: '/v1/a/c/o' })).toThrow(/seconds or expiresAt/);
  });

  it('counts relative lifetimes from now, with swiftclient suffixes', () => {
    const now = Math.trunc(Date.now() / 1000);
    const exp = (s: number | string) => Number(/temp_url_expires=(\d+)/.exec(generateTempUrl({ method: 'GET', key: 'k', path: '/v1/a/c/o', seconds: s }))![1]);
    expect(exp(60) - now).toBeGreaterThanOrEqual(60);
    expect(exp(60) - now).toBeLessThanOrEqual(62);
    expect(exp('2h') - now).toBeGreaterThanOrEqual(7200);
    expect(exp('1d') - now).toBeLessThanOrEqual(86402);
  });
});

describe('temp URLs against a cluster', () => {
  const f = useStoreCluster(async ({ store }) => {
    await store.container('tu').create();
    await store.object('tu', 'doc one.txt').put('temporary hello');
  });

  async function fetchStatus(url: string, method = 'GET'): Promise<{ status: number; body: string }> {
    const res = await request(url, { method });
    return { status: res.statusCode, body: await res.body.text() };
  }

  it('signs with the account key (read from the account) and the URL works without a token', async () => {
    await f.env.store.account.post({ 'Temp-URL-Key': 'acct-key' });
    for (const digest of ['sha1', 'sha256', 'sha512'] as const) {
      const url = await f.env.store.tempUrl({ method: 'GET', container: 'tu', object: 'doc one.txt', seconds: 300, digest });
      expect(url.startsWith(`${f.env.cluster.url}/v1/AUTH_test/tu/doc%20one.txt?temp_url_sig=`)).toBe(true);
      expect(await fetchStatus(url)).toEqual({ status: 200, body: 'temporary hello' });
    }
    // The signature covers the method and the key: PUT with a GET URL, or another key, is refused.
    const url = await f.env.store.tempUrl({ method: 'GET', container: 'tu', object: 'doc one.txt', seconds: 300 });
    expect((await fetchStatus(url, 'PUT')).status).toBe(401);
    const wrong = await f.env.store.tempUrl({ method: 'GET', container: 'tu', object: 'doc one.txt', seconds: 300, key: 'not-the-key' });
    expect((await fetchStatus(wrong)).status).toBe(401);
  });

  it('signs with a container key, and prefix URLs reach every object under the prefix', async () => {
    await f.env.store.container('tu').post({ 'Temp-URL-Key': 'cont-key' });
    await f.env.store.object('tu', 'pre/a').put('A');
    const url = await f.env.store.tempUrl({ method: 'GET', container: 'tu', object: 'doc one.txt', seconds: 300, keySource: 'container' });
    expect(await fetchStatus(url)).toEqual({ status: 200, body: 'temporary hello' });
    const pre = await f.env.store.tempUrl({ method: 'GET', container: 'tu', object: 'pre/', prefix: true, seconds: 300, keySource: 'container' });
    const preUrl = new URL(pre);
    expect(await fetchStatus(`${preUrl.origin}/v1/AUTH_test/tu/pre/a${preUrl.search}`)).toEqual({ status: 200, body: 'A' });
    expect((await fetchStatus(`${preUrl.origin}/v1/AUTH_test/tu/doc%20one.txt${preUrl.search}`)).status).toBe(401);
  });

  it('an expired URL is refused', async () => {
    const url = await f.env.store.tempUrl({ method: 'GET', container: 'tu', object: 'doc one.txt', expiresAt: new Date(Date.now() - 10_000) });
    expect((await fetchStatus(url)).status).toBe(401);
  });
});
