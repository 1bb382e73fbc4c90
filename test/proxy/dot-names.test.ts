/**
 * Names `.` and `..` (issue 14), raw and percent-encoded (`%2e`, `%2E`), at account, container
 * and object level through the whole cluster.
 *
 * Swift 2.30 takes them as ordinary names on every layer: its proxy splits PATH_INFO with
 * split_path (which refuses only empty segments, never dot segments), its servers do the same and
 * hash the names into the on-disk paths, and its http_connect sends the quoted path as is. The
 * expected answers below are what Debian's Swift 2.30.1 (proxy + account, container and object
 * servers, account_autocreate and allow_account_management on) answered to this very sequence,
 * status and body alike; object names with `.`/`..` segments (`a/../b`, `../x`, `x/..`) are
 * stored and served as written, never resolved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../../src/testing/index';
import { call, cluster, direct, OWNER, type Resp } from './helpers';

const ACCEPTED = '<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>';
const NOT_FOUND = '<html><h1>Not Found</h1><p>The resource could not be found.</p></html>';
const CONFLICT = '<html><h1>Conflict</h1><p>There was a conflict when trying to complete your request.</p></html>';

/** The name as sent: raw, or every `.` as `%2e` or `%2E`. */
const ENCODINGS = ['raw', '%2e', '%2E'] as const;
const enc = (name: string, e: (typeof ENCODINGS)[number]) => (e === 'raw' ? name : name.replace(/\./g, e));

let cl: TestCluster;
beforeAll(async () => {
  cl = await cluster();
});
afterAll(async () => {
  await cl?.stop();
});

function send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Resp> {
  return call(cl.url, method, path, { ...OWNER, ...headers }, { body: body ?? (method === 'PUT' || method === 'POST' ? '' : undefined) });
}

/** Status and body of each request, in order, so a failure shows the whole answer. */
async function expectAnswers(steps: [method: string, path: string, headers: Record<string, string>, body: string | undefined, status: number, text: string][]) {
  for (const [method, path, headers, body, status, text] of steps) {
    const r = await send(method, path, headers, body);
    expect({ request: `${method} ${path}`, status: r.status, text: r.text }).toEqual({ request: `${method} ${path}`, status, text });
  }
}

describe('accounts `.` and `..`', () => {
  it.each(['.', '..'])('account %s: one account under every encoding, as Swift answers', async (name) => {
    const [raw, lower, upper] = ENCODINGS.map((e) => `/v1/${enc(name, e)}`) as [string, string, string];
    // account_autocreate: a missing account reads as an empty one.
    const fresh = await send('HEAD', raw);
    expect([fresh.status, fresh.headers['x-account-container-count']]).toEqual([200, '0']);
    await expectAnswers([
      ['PUT', raw, {}, undefined, 201, ''],
      ['PUT', lower, {}, undefined, 202, ACCEPTED],
      ['PUT', upper, {}, undefined, 202, ACCEPTED],
      ['POST', raw, { 'X-Account-Meta-Color': 'raw' }, undefined, 204, ''],
      ['POST', lower, { 'X-Account-Meta-Color': 'lower' }, undefined, 204, ''],
      ['POST', upper, { 'X-Account-Meta-Color': 'upper' }, undefined, 204, ''],
    ]);
    for (const p of [raw, lower, upper]) {
      const h = await send('HEAD', p);
      expect([h.status, h.headers['x-account-meta-color'], h.headers['x-account-container-count']]).toEqual([204, 'upper', '0']);
    }
    expect((await send('PUT', `${lower}/c`)).status).toBe(201);
    for (const p of [raw, lower, upper]) {
      const g = await send('GET', p);
      expect([g.status, g.text, g.headers['x-account-container-count']]).toEqual([200, 'c\n', '1']);
    }
    await expectAnswers([
      ['DELETE', `${upper}/c`, {}, undefined, 204, ''],
      ['DELETE', raw, {}, undefined, 204, ''],
      ['DELETE', lower, {}, undefined, 404, ''],
      ['DELETE', upper, {}, undefined, 404, ''],
      ['GET', raw, {}, undefined, 410, ''],
    ]);
  });
});

describe('containers `.` and `..`', () => {
  it.each(['.', '..'])('container %s: stored, listed by the account and its servers, deleted', async (name) => {
    const a = `AUTH_dots${name.length}`;
    const [raw, lower, upper] = ENCODINGS.map((e) => `/v1/${a}/${enc(name, e)}`) as [string, string, string];
    await expectAnswers([
      ['HEAD', raw, {}, undefined, 404, ''],
      ['PUT', raw, {}, undefined, 201, ''],
      ['PUT', lower, {}, undefined, 202, ACCEPTED],
      ['PUT', upper, {}, undefined, 202, ACCEPTED],
      ['POST', raw, { 'X-Container-Meta-Color': 'raw' }, undefined, 204, ''],
      ['POST', lower, { 'X-Container-Meta-Color': 'lower' }, undefined, 204, ''],
      ['POST', upper, { 'X-Container-Meta-Color': 'upper' }, undefined, 204, ''],
    ]);
    for (const p of [raw, lower, upper]) {
      const h = await send('HEAD', p);
      expect([h.status, h.headers['x-container-meta-color'], h.headers['x-container-object-count']]).toEqual([204, 'upper', '0']);
    }
    // The container PUT's account update landed: the proxy's listing and every account replica name it.
    const listing = await send('GET', `/v1/${a}`);
    expect([listing.status, listing.text, listing.headers['x-account-container-count']]).toEqual([200, `${name}\n`, '1']);
    for (const r of await direct(cl.proxy.state.rings.account, 'GET', [a])) expect([r.status, r.text]).toEqual([200, `${name}\n`]);

    expect((await send('PUT', `${lower}/o`, {}, `in ${name}`)).status).toBe(201);
    for (const p of [raw, lower, upper]) {
      const g = await send('GET', p);
      expect([g.status, g.text, g.headers['x-container-object-count']]).toEqual([200, 'o\n', '1']);
    }
    // The updater brings the object count to the account listing too.
    const until = Date.now() + 10_000;
    let rows: { name: string; count: number; bytes: number }[] = [];
    while (Date.now() < until) {
      rows = JSON.parse((await send('GET', `/v1/${a}?format=json`)).text) as typeof rows;
      if (rows[0]?.count === 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(rows.map((r) => [r.name, r.count, r.bytes])).toEqual([[name, 1, `in ${name}`.length]]);

    await expectAnswers([
      ['DELETE', raw, {}, undefined, 409, CONFLICT],
      ['DELETE', `${upper}/o`, {}, undefined, 204, ''],
      ['DELETE', raw, {}, undefined, 204, ''],
      ['DELETE', lower, {}, undefined, 404, NOT_FOUND],
      ['DELETE', upper, {}, undefined, 404, NOT_FOUND],
      ['GET', `/v1/${a}`, {}, undefined, 204, ''],
    ]);
    for (const r of await direct(cl.proxy.state.rings.account, 'GET', [a])) expect([r.status, r.text]).toEqual([204, '']);
  });
});

describe('objects with `.` and `..` segments', () => {
  beforeAll(async () => {
    expect((await send('PUT', '/v1/AUTH_dots/c')).status).toBe(201);
  });

  it.each(['.', '..', 'a/../b', 'a/./b', '../x', 'x/..', './.'])('object %s: stored and served as written, under every encoding', async (name) => {
    const [raw, lower, upper] = ENCODINGS.map((e) => `/v1/AUTH_dots/c/${enc(name, e)}`) as [string, string, string];
    await expectAnswers([
      ['HEAD', raw, {}, undefined, 404, ''],
      ['PUT', raw, {}, `${name} raw`, 201, ''],
      ['PUT', lower, {}, `${name} lower`, 201, ''],
      ['PUT', upper, {}, `${name} upper`, 201, ''],
      ['POST', raw, { 'X-Object-Meta-Color': 'raw' }, undefined, 202, ACCEPTED],
      ['POST', lower, { 'X-Object-Meta-Color': 'lower' }, undefined, 202, ACCEPTED],
      ['POST', upper, { 'X-Object-Meta-Color': 'upper' }, undefined, 202, ACCEPTED],
    ]);
    for (const p of [raw, lower, upper]) {
      const h = await send('HEAD', p);
      expect([h.status, h.headers['x-object-meta-color']]).toEqual([200, 'upper']);
      const g = await send('GET', p);
      expect([g.status, g.text]).toEqual([200, `${name} upper`]);
    }
    // One object, under its name as written, on every replica.
    const listing = await send('GET', '/v1/AUTH_dots/c');
    expect([listing.status, listing.text]).toEqual([200, `${name}\n`]);
    for (const r of await direct(cl.proxy.state.rings.object.get(0)!, 'HEAD', ['AUTH_dots', 'c', name], { 'X-Backend-Storage-Policy-Index': '0' })) {
      expect([r.status, r.headers['x-object-meta-color']]).toEqual([200, 'upper']);
    }
    await expectAnswers([
      ['DELETE', raw, {}, undefined, 204, ''],
      ['DELETE', lower, {}, undefined, 404, NOT_FOUND],
      ['DELETE', upper, {}, undefined, 404, NOT_FOUND],
      ['GET', raw, {}, undefined, 404, NOT_FOUND],
      ['GET', '/v1/AUTH_dots/c', {}, undefined, 204, ''],
    ]);
  });
});

describe('other names with dots', () => {
  it.each(['.x', 'x..y', '...', '.hidden.', '%2e%2e%2e'])('container and object %s work as any name', async (sent) => {
    const name = decodeURIComponent(sent);
    const a = 'AUTH_dotted';
    await expectAnswers([
      ['PUT', `/v1/${a}/${sent}`, {}, undefined, 201, ''],
      ['PUT', `/v1/${a}/${sent}/${sent}`, {}, 'dotted', 201, ''],
      ['GET', `/v1/${a}/${sent}/${sent}`, {}, undefined, 200, 'dotted'],
      ['GET', `/v1/${a}/${sent}`, {}, undefined, 200, `${name}\n`],
    ]);
    const listing = await send('GET', `/v1/${a}`);
    expect(listing.text.split('\n')).toContain(name);
    await expectAnswers([
      ['DELETE', `/v1/${a}/${sent}/${sent}`, {}, undefined, 204, ''],
      ['DELETE', `/v1/${a}/${sent}`, {}, undefined, 204, ''],
    ]);
    expect((await send('GET', `/v1/${a}`)).text.split('\n')).not.toContain(name);
  });
});
