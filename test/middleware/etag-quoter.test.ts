/**
 * etag_quoter through a whole cluster (right after cache, as Swift's docs place it): the
 * account and container switches stored as sysmeta and shown under their client names, the
 * container overriding the account, enable_by_default, quoted ETags on every object answer
 * (PUT, GET, HEAD, 304, 412) only where enabled, and the /info section.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { quoteEtag } from '../../src/middleware/etag-quoter';
import { Session } from '../conformance/replayer';
import { proxyConf } from '../helpers/proxy-conf';
import { call, leakedHeaders, uniq } from '../proxy/helpers';

const PIPELINE = ['catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', 'cache', 'etag-quoter', 'listing_formats', 'tempauth', 'proxy-logging'];
const BODY = 'hello etags';
const MD5 = createHash('md5').update(BODY).digest('hex');

function conf(section = ''): string {
  return proxyConf({ pipeline: PIPELINE, sections: { tempauth: 'dev_users = true', 'etag-quoter': section } });
}

async function login(cl: TestCluster, user = 'test:tester'): Promise<string> {
  return (await new Session(cl.url).login(user)).token;
}

describe('etag_quoter (enable_by_default off)', () => {
  let cl: TestCluster;
  let tok: string;
  let account: string;
  const req = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    call(cl.url, method, path, { 'X-Auth-Token': tok, ...headers }, body === undefined ? {} : { body });

  /** A container (with the given headers) holding one object `o`; returns its path. */
  async function containerWithObject(headers: Record<string, string> = {}): Promise<string> {
    const path = `/v1/${account}/${uniq('eq')}`;
    expect((await req('PUT', path, headers)).status).toBe(201);
    const put = await req('PUT', `${path}/o`, {}, BODY);
    expect(put.status).toBe(201);
    return path;
  }

  beforeAll(async () => {
    cl = await startCluster({ proxyConfig: conf() });
    tok = await login(cl);
    account = 'AUTH_test';
    expect((await req('POST', `/v1/${account}`)).status).toBe(204);
  }, 60_000);
  afterAll(async () => {
    await cl?.stop();
  });

  it('registers its /info section', async () => {
    const info = await call(cl.url, 'GET', '/info');
    expect(info.text).toContain('"etag_quoter": {"enable_by_default": false}');
  });

  it('leaves ETags bare where nothing enables it', async () => {
    const c = await containerWithObject();
    const get = await req('GET', `${c}/o`);
    expect(get.status).toBe(200);
    expect(get.headers.etag).toBe(MD5);
    expect((await req('HEAD', `${c}/o`)).headers.etag).toBe(MD5);
    const nm = await req('GET', `${c}/o`, { 'If-None-Match': MD5 });
    expect(nm.status).toBe(304);
    expect(nm.headers.etag).toBe(MD5);
  });

  it('quotes every object answer in a container that enables it, and shows the switch by its client name', async () => {
    const c = await containerWithObject({ 'X-Container-Rfc-Compliant-Etags': 'yes' });
    const head = await req('HEAD', c);
    expect(head.headers['x-container-rfc-compliant-etags']).toBe('True');
    expect(leakedHeaders(head)).toEqual([]);

    const put = await req('PUT', `${c}/o2`, {}, BODY);
    expect(put.status).toBe(201);
    expect(put.headers.etag).toBe(`"${MD5}"`);
    const get = await req('GET', `${c}/o`);
    expect([get.status, get.headers.etag, get.text]).toEqual([200, `"${MD5}"`, BODY]);
    expect((await req('HEAD', `${c}/o`)).headers.etag).toBe(`"${MD5}"`);
    const nm = await req('GET', `${c}/o`, { 'If-None-Match': `"${MD5}"` });
    expect([nm.status, nm.headers.etag]).toEqual([304, `"${MD5}"`]);
    const range = await req('GET', `${c}/o`, { Range: 'bytes=0-4' });
    expect([range.status, range.headers.etag, range.text]).toEqual([206, `"${MD5}"`, 'hello']);
    const failed = await req('GET', `${c}/o`, { 'If-Match': '"nope"' });
    expect(failed.status).toBe(412);
    if (failed.headers.etag !== undefined) expect(failed.headers.etag).toBe(`"${MD5}"`);
    // Container answers are not object answers: left alone.
    const listing = await req('GET', c);
    expect(listing.headers.etag).toBeUndefined();
  });

  it('lets a container turn off what its account turns on, and X-Remove- hand it back to the account', async () => {
    const acct = `/v1/AUTH_test2`;
    const tok2 = await login(cl, 'test2:tester2');
    const req2 = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
      call(cl.url, method, path, { 'X-Auth-Token': tok2, ...headers }, body === undefined ? {} : { body });
    expect((await req2('POST', acct, { 'X-Account-Rfc-Compliant-Etags': 'true' })).status).toBe(204);
    const head = await req2('HEAD', acct);
    expect(head.headers['x-account-rfc-compliant-etags']).toBe('True');
    expect(leakedHeaders(head)).toEqual([]);

    const c = `${acct}/${uniq('eq')}`;
    expect((await req2('PUT', c)).status).toBe(201);
    expect((await req2('PUT', `${c}/o`, {}, BODY)).headers.etag).toBe(`"${MD5}"`);

    expect((await req2('POST', c, { 'X-Container-Rfc-Compliant-Etags': 'false' })).status).toBe(204);
    expect((await req2('HEAD', c)).headers['x-container-rfc-compliant-etags']).toBe('False');
    expect((await req2('GET', `${c}/o`)).headers.etag).toBe(MD5);

    expect((await req2('POST', c, { 'X-Remove-Container-Rfc-Compliant-Etags': 'x' })).status).toBe(204);
    expect((await req2('HEAD', c)).headers['x-container-rfc-compliant-etags']).toBeUndefined();
    expect((await req2('GET', `${c}/o`)).headers.etag).toBe(`"${MD5}"`);

    // An empty value clears the account's switch as well.
    expect((await req2('POST', acct, { 'X-Account-Rfc-Compliant-Etags': '' })).status).toBe(204);
    expect((await req2('HEAD', acct)).headers['x-account-rfc-compliant-etags']).toBeUndefined();
    expect((await req2('GET', `${c}/o`)).headers.etag).toBe(MD5);
  });

  it('does not let a client write the sysmeta itself', async () => {
    const c = await containerWithObject({ 'X-Container-Sysmeta-Rfc-Compliant-Etags': 'True' });
    expect((await req('HEAD', c)).headers['x-container-rfc-compliant-etags']).toBeUndefined();
    expect((await req('GET', `${c}/o`)).headers.etag).toBe(MD5);
  });

  it('leaves answers alone when the container is missing', async () => {
    const res = await req('GET', `/v1/${account}/${uniq('missing')}/o`);
    expect(res.status).toBe(404);
    expect(res.headers.etag).toBeUndefined();
  });

  it('leaves non-Swift paths to the pipeline', async () => {
    expect((await call(cl.url, 'GET', '/healthcheck')).text).toBe('OK');
  });
});

describe('etag_quoter (enable_by_default on)', () => {
  let cl: TestCluster;
  let tok: string;
  beforeAll(async () => {
    cl = await startCluster({ proxyConfig: conf('enable_by_default = yes\n') });
    tok = await login(cl);
  }, 60_000);
  afterAll(async () => {
    await cl?.stop();
  });

  it('quotes unless the account or container says no', async () => {
    const req = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
      call(cl.url, method, path, { 'X-Auth-Token': tok, ...headers }, body === undefined ? {} : { body });
    expect((await call(cl.url, 'GET', '/info')).text).toContain('"etag_quoter": {"enable_by_default": true}');
    const on = `/v1/AUTH_test/${uniq('on')}`;
    const off = `/v1/AUTH_test/${uniq('off')}`;
    expect((await req('PUT', on)).status).toBe(201);
    expect((await req('PUT', off, { 'X-Container-Rfc-Compliant-Etags': 'off' })).status).toBe(201);
    expect((await req('PUT', `${on}/o`, {}, BODY)).headers.etag).toBe(`"${MD5}"`);
    expect((await req('PUT', `${off}/o`, {}, BODY)).headers.etag).toBe(MD5);
  });
});

describe('quoteEtag', () => {
  it('quotes bare values and keeps quoted and weak ones', () => {
    expect(quoteEtag('abc')).toBe('"abc"');
    expect(quoteEtag('"abc"')).toBe('"abc"');
    expect(quoteEtag('W/"abc"')).toBe('W/"abc"');
    expect(quoteEtag('"abc')).toBe('""abc"');
    expect(quoteEtag('W/abc')).toBe('"W/abc"');
  });
});
