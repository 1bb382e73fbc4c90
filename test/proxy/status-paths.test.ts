/**
 * Every status path of the proxy core against real storage servers (3 replicas).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../../src/testing/index';
import { call, cluster, direct, leakedHeaders, OWNER, rawRequest, uniq } from './helpers';

let cl: TestCluster;
let url: string;

beforeAll(async () => {
  cl = await cluster();
  url = cl.url;
});
afterAll(async () => {
  await cl?.stop();
});

async function mkContainer(account: string, container: string, headers: Record<string, string> = {}): Promise<void> {
  const r = await call(url, 'PUT', `/v1/${account}/${container}`, headers);
  expect(r.status).toBe(201);
}

describe('path validation', () => {
  it('answers 400 for an unknown API version', async () => {
    const r = await call(url, 'GET', '/v2/a');
    expect(r.status).toBe(400);
    expect(r.headers['x-trans-id']).toMatch(/^tx[0-9a-f]{21}-[0-9a-f]{10}$/);
  });

  it('answers 404 for an unsplittable path', async () => {
    expect((await call(url, 'GET', '//a')).status).toBe(404);
    expect((await call(url, 'GET', '/')).status).toBe(404);
  });

  it('answers 412 Bad URL when no controller matches', async () => {
    for (const path of ['/v1', '/v1/', '/foo']) {
      const r = await call(url, 'GET', path);
      expect(r.status, path).toBe(412);
      expect(r.text, path).toBe('Bad URL');
    }
  });

  it('answers 412 Bad URL, not 500 (Swift), for an empty container segment', async () => {
    for (const path of ['/v1/a//o', '/v1/AUTH_test//x', '/v1/AUTH_test//x/y']) {
      for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'POST']) {
        const r = await call(url, method, path, method === 'PUT' ? { 'content-length': '0' } : {});
        expect(r.status, `${method} ${path}`).toBe(412);
        expect(r.text, `${method} ${path}`).toBe(method === 'HEAD' ? '' : 'Bad URL');
      }
    }
  });

  it('answers 412 for invalid UTF-8 or NUL in the path', async () => {
    for (const path of ['/v1/a/%ff', '/v1/a/c/%00', '/v1/a%C3', '/v1/a/c/o%ed%a0%80']) {
      const r = await call(url, 'GET', path);
      expect(r.status, path).toBe(412);
      expect(r.text, path).toBe('Invalid UTF8 or contains NULL');
    }
  });

  it('accepts percent-encoded UTF-8 names end to end', async () => {
    const a = uniq('AUTH_u');
    const cont = encodeURIComponent('cöntainer ✓');
    expect((await call(url, 'PUT', `/v1/${a}/${cont}`)).status).toBe(201);
    const obj = encodeURIComponent('dir/ob ject?#é');
    expect((await call(url, 'PUT', `/v1/${a}/${cont}/${obj}`, { 'content-length': '2' }, { body: 'hi' })).status).toBe(201);
    const g = await call(url, 'GET', `/v1/${a}/${cont}/${obj}`);
    expect(g.status).toBe(200);
    expect(g.text).toBe('hi');
    const l = await call(url, 'GET', `/v1/${a}/${cont}?format=json`);
    expect(JSON.parse(l.text).map((i: { name: string }) => i.name)).toEqual(['dir/ob ject?#é']);
    const al = await call(url, 'GET', `/v1/${a}`);
    expect(al.text).toBe('cöntainer ✓\n');
  });
});

describe('account', () => {
  it('refuses PUT and DELETE with 405 and Allow without allow_account_management', async () => {
    const c2 = await cluster({ replicas: 1, app: { allow_account_management: 'false', account_autocreate: 'false' } });
    try {
      for (const method of ['PUT', 'DELETE']) {
        const r = await call(c2.url, method, '/v1/AUTH_x');
        expect(r.status, method).toBe(405);
        const allow = String(r.headers.allow).split(',').map((s) => s.trim()).sort();
        expect(allow).not.toContain('PUT');
        expect(allow).not.toContain('DELETE');
        expect(allow).toEqual(expect.arrayContaining(['GET', 'HEAD', 'POST']));
      }
      // Without autocreate (the default), a missing account is 404 and a container PUT too.
      expect((await call(c2.url, 'HEAD', '/v1/AUTH_x')).status).toBe(404);
      expect((await call(c2.url, 'PUT', '/v1/AUTH_x/c')).status).toBe(404);
    } finally {
      await c2.stop();
    }
  });

  it('fakes an empty listing for a missing account under autocreate', async () => {
    const a = uniq('AUTH_fake');
    // Swift's fake listing is a JSON 200 that listing_formats leaves at 200 for HEAD.
    const h = await call(url, 'HEAD', `/v1/${a}`);
    expect(h.status).toBe(200);
    expect(h.headers['x-account-container-count']).toBe('0');
    expect(leakedHeaders(h)).toEqual([]);
    const g = await call(url, 'GET', `/v1/${a}`);
    expect(g.status).toBe(204);
    expect(g.text).toBe('');
    const j = await call(url, 'GET', `/v1/${a}?format=json`);
    expect(j.status).toBe(200);
    expect(j.text).toBe('[]');
    expect(j.headers['content-type']).toBe('application/json; charset=utf-8');
    const x = await call(url, 'GET', `/v1/${a}`, { accept: 'application/xml' });
    expect(x.status).toBe(200);
    expect(x.text).toContain(`<account name="${a}">`);
    // The account was not created by looking at it.
    for (const r of await direct(cl.proxy.state.rings.account, 'HEAD', [a])) expect(r.status).toBe(404);
  });

  it('autocreates the account on container PUT', async () => {
    const a = uniq('AUTH_ac');
    await mkContainer(a, 'c');
    for (const r of await direct(cl.proxy.state.rings.account, 'HEAD', [a])) {
      expect(r.status).toBe(204);
      expect(r.headers['x-account-container-count']).toBe('1');
    }
    const g = await call(url, 'GET', `/v1/${a}`);
    expect(g.status).toBe(200);
    expect(g.text).toBe('c\n');
  });

  it('autocreates the account on POST, then applies the metadata', async () => {
    const a = uniq('AUTH_post');
    const r = await call(url, 'POST', `/v1/${a}`, { 'X-Account-Meta-Color': 'blue' });
    expect(r.status).toBe(204);
    const h = await call(url, 'HEAD', `/v1/${a}`);
    expect(h.status).toBe(204);
    expect(h.headers['x-account-meta-color']).toBe('blue');
    for (const d of await direct(cl.proxy.state.rings.account, 'HEAD', [a])) expect(d.headers['x-account-meta-color']).toBe('blue');
  });

  it('answers 410 for a deleted account and refuses to autocreate it again', async () => {
    const a = uniq('AUTH_del');
    expect((await call(url, 'PUT', `/v1/${a}`)).status).toBe(201);
    expect((await call(url, 'PUT', `/v1/${a}`)).status).toBe(202);
    expect((await call(url, 'DELETE', `/v1/${a}?x=y`)).status).toBe(400);
    expect((await call(url, 'DELETE', `/v1/${a}`)).status).toBe(204);
    expect((await call(url, 'HEAD', `/v1/${a}`)).status).toBe(410);
    expect((await call(url, 'GET', `/v1/${a}`)).status).toBe(410);
    // The account servers refuse the autocreate PUT (403 Recently deleted): 503.
    expect((await call(url, 'PUT', `/v1/${a}/c`)).status).toBe(503);
    // Containers of a deleted account are missing.
    expect((await call(url, 'HEAD', `/v1/${a}/c`)).status).toBe(404);
  });

  it('sets and removes account metadata', async () => {
    const a = uniq('AUTH_meta');
    expect((await call(url, 'PUT', `/v1/${a}`, { 'X-Account-Meta-A': '1', 'X-Account-Meta-B': '2' })).status).toBe(201);
    expect((await call(url, 'POST', `/v1/${a}`, { 'X-Remove-Account-Meta-A': 'x', 'X-Account-Meta-C': '3' })).status).toBe(204);
    const h = await call(url, 'HEAD', `/v1/${a}`);
    expect(h.headers['x-account-meta-a']).toBeUndefined();
    expect(h.headers['x-account-meta-b']).toBe('2');
    expect(h.headers['x-account-meta-c']).toBe('3');
    expect(h.headers['x-account-object-count']).toBe('0');
  });

  it('limits account name length', async () => {
    const ok = 'a'.repeat(256);
    expect((await call(url, 'HEAD', `/v1/${ok}`)).status).toBe(200);
    const long = 'a'.repeat(257);
    for (const method of ['GET', 'POST', 'PUT']) {
      const r = await call(url, method, `/v1/${long}`);
      expect(r.status, method).toBe(400);
      if (method !== 'HEAD') expect(r.text).toBe('Account name length of 257 longer than 256');
    }
    // Names starting with the auto-create prefix get twice the limit.
    expect((await call(url, 'HEAD', `/v1/.${'a'.repeat(300)}`)).status).toBe(200);
    // Characters, not bytes.
    expect((await call(url, 'HEAD', `/v1/${encodeURIComponent('é'.repeat(256))}`)).status).toBe(200);
  });
});

describe('metadata limits (check_metadata)', () => {
  const cases: [string, (p: string) => Record<string, string>, string][] = [
    ['too many items', (p) => Object.fromEntries(Array.from({ length: 91 }, (_, i) => [`${p}k${i}`, 'v'])), 'Too many metadata items; max 90'],
    ['total size', (p) => Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`${p}k${String(i).padStart(2, '0')}`, 'v'.repeat(250)])), 'Total metadata too large; max 4096'],
    ['name length', (p) => ({ [`${p}${'n'.repeat(129)}`]: 'v' }), ''],
    ['value length', (p) => ({ [`${p}Big`]: 'v'.repeat(257) }), ''],
    // A value this long makes a header line past max_header_size: the front door refuses it, as
    // eventlet does before Swift's check_metadata could ('Header value too long').
    ['header value', () => ({ 'X-Something': 'v'.repeat(8193) }), 'Header line too long: X-Something is 8208 bytes with its name; a header line must be under 8192 bytes'],
  ];

  for (const kind of ['account', 'container', 'object'] as const) {
    for (const [label, make, message] of cases) {
      it(`${kind}: ${label}`, async () => {
        const a = uniq('AUTH_lim');
        await mkContainer(a, 'c');
        const prefix = `X-${kind[0]!.toUpperCase()}${kind.slice(1)}-Meta-`;
        const headers = make(prefix);
        const path = kind === 'account' ? `/v1/${a}` : kind === 'container' ? `/v1/${a}/c` : `/v1/${a}/c/o`;
        const method = kind === 'object' ? 'PUT' : 'POST';
        const r = await call(url, method, path, { ...headers, 'content-length': '0' });
        expect(r.status).toBe(400);
        // Swift's message: the lower-case prefix, then the rest of the title-cased header name.
        const lower = prefix.toLowerCase();
        if (label === 'name length') expect(r.text).toBe(`Metadata name too long: ${lower}N${'n'.repeat(128)}`);
        else if (label === 'value length') expect(r.text).toBe(`Metadata value longer than 256: ${lower}Big`);
        else expect(r.text).toBe(message);
      });
    }
  }

  it('allows exactly the limits', async () => {
    const a = uniq('AUTH_lim');
    await mkContainer(a, 'c');
    await mkContainer(a, 'd');
    const ninety = Object.fromEntries(Array.from({ length: 90 }, (_, i) => [`X-Container-Meta-K${i}`, 'v']));
    expect((await call(url, 'POST', `/v1/${a}/c`, ninety)).status).toBe(204);
    // The storage servers count stored items too: one more is refused there.
    expect((await call(url, 'POST', `/v1/${a}/c`, { 'X-Container-Meta-More': 'v' })).status).toBe(400);
    const big = { [`X-Container-Meta-${'n'.repeat(128)}`]: 'v'.repeat(256) };
    expect((await call(url, 'POST', `/v1/${a}/d`, big)).status).toBe(204);
    const obj = Object.fromEntries(Array.from({ length: 90 }, (_, i) => [`X-Object-Meta-K${i}`, 'v']));
    expect((await call(url, 'PUT', `/v1/${a}/d/o`, { ...obj, 'content-length': '0' })).status).toBe(201);
  });

  it('refuses an empty metadata name', async () => {
    const a = uniq('AUTH_lim');
    await mkContainer(a, 'c');
    const r = await call(url, 'POST', `/v1/${a}/c`, { 'X-Container-Meta-': 'v' });
    expect(r.status).toBe(400);
    expect(r.text).toBe('Metadata name cannot be empty');
  });
});

describe('container', () => {
  it('creates, lists, updates and deletes', async () => {
    const a = uniq('AUTH_c');
    const p = await call(url, 'PUT', `/v1/${a}/box`, { ...OWNER, 'X-Container-Meta-Color': 'red', 'X-Container-Read': '.r:*' });
    expect(p.status).toBe(201);
    expect(leakedHeaders(p)).toEqual([]);
    expect((await call(url, 'PUT', `/v1/${a}/box`)).status).toBe(202);
    const h = await call(url, 'HEAD', `/v1/${a}/box`, { 'X-Test-Owner': 'yes' });
    expect(h.status).toBe(204);
    expect(h.headers['x-container-meta-color']).toBe('red');
    expect(h.headers['x-container-read']).toBe('.r:*');
    expect(h.headers['x-container-object-count']).toBe('0');
    expect(h.headers['x-storage-policy']).toBe('Policy-0');
    expect(leakedHeaders(h)).toEqual([]);
    expect((await call(url, 'POST', `/v1/${a}/box`, { 'X-Remove-Container-Meta-Color': 'x', 'X-Container-Meta-Size': 'L' })).status).toBe(204);
    const h2 = await call(url, 'HEAD', `/v1/${a}/box`);
    expect(h2.headers['x-container-meta-color']).toBeUndefined();
    expect(h2.headers['x-container-meta-size']).toBe('L');
    for (const d of await direct(cl.proxy.state.rings.container, 'HEAD', [a, 'box'])) {
      expect(d.headers['x-container-meta-size']).toBe('L');
      expect(d.headers['x-container-meta-color']).toBeUndefined();
    }
    expect((await call(url, 'DELETE', `/v1/${a}/box`)).status).toBe(204);
    expect((await call(url, 'HEAD', `/v1/${a}/box`)).status).toBe(404);
    expect((await call(url, 'DELETE', `/v1/${a}/box`)).status).toBe(404);
    expect((await call(url, 'POST', `/v1/${a}/box`)).status).toBe(404);
  });

  it('refuses to delete a non-empty container with 409', async () => {
    const a = uniq('AUTH_c');
    await mkContainer(a, 'full');
    expect((await call(url, 'PUT', `/v1/${a}/full/o`, { 'content-length': '1' }, { body: 'x' })).status).toBe(201);
    expect((await call(url, 'DELETE', `/v1/${a}/full`)).status).toBe(409);
    expect((await call(url, 'DELETE', `/v1/${a}/full/o`)).status).toBe(204);
    expect((await call(url, 'DELETE', `/v1/${a}/full`)).status).toBe(204);
  });

  it('limits container name length', async () => {
    const a = uniq('AUTH_c');
    expect((await call(url, 'PUT', `/v1/${a}/${'c'.repeat(256)}`)).status).toBe(201);
    const r = await call(url, 'PUT', `/v1/${a}/${'c'.repeat(257)}`);
    expect(r.status).toBe(400);
    expect(r.text).toBe('Container name length of 257 longer than 256');
    // The doubled limit depends on the account name, not the container's.
    const r2 = await call(url, 'PUT', `/v1/${a}/.${'c'.repeat(256)}`);
    expect(r2.status).toBe(400);
    expect((await call(url, 'PUT', `/v1/.${a}/${'c'.repeat(300)}`)).status).toBe(201);
  });

  it('refuses an unknown storage policy', async () => {
    const a = uniq('AUTH_c');
    const r = await call(url, 'PUT', `/v1/${a}/c`, { 'X-Storage-Policy': 'nope' });
    expect(r.status).toBe(400);
    expect(r.text).toBe("Invalid X-Storage-Policy 'nope'");
  });

  it('answers 404 for a missing container on every verb', async () => {
    const a = uniq('AUTH_c');
    await mkContainer(a, 'c');
    for (const method of ['GET', 'HEAD', 'POST', 'DELETE']) {
      expect((await call(url, method, `/v1/${a}/nope`)).status, method).toBe(404);
    }
  });
});

describe('object', () => {
  it('round-trips an object with metadata; POST replaces user metadata', async () => {
    const a = uniq('AUTH_o');
    await mkContainer(a, 'c');
    const p = await call(url, 'PUT', `/v1/${a}/c/file.txt`, { 'content-length': '5', 'X-Object-Meta-A': '1', 'Content-Disposition': 'inline' }, { body: 'hello' });
    expect(p.status).toBe(201);
    expect(p.headers.etag).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(p.headers['last-modified']).toBeTruthy();
    const g = await call(url, 'GET', `/v1/${a}/c/file.txt`);
    expect(g.status).toBe(200);
    expect(g.text).toBe('hello');
    expect(g.headers['content-type']).toBe('text/plain');
    expect(g.headers.etag).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(g.headers['x-object-meta-a']).toBe('1');
    expect(g.headers['content-disposition']).toBe('inline');
    expect(leakedHeaders(g)).toEqual([]);
    const h = await call(url, 'HEAD', `/v1/${a}/c/file.txt`);
    expect(h.status).toBe(200);
    expect(h.headers['content-length']).toBe('5');
    expect((await call(url, 'POST', `/v1/${a}/c/file.txt`, { 'X-Object-Meta-B': '2' })).status).toBe(202);
    const h2 = await call(url, 'HEAD', `/v1/${a}/c/file.txt`);
    expect(h2.headers['x-object-meta-a']).toBeUndefined();
    expect(h2.headers['x-object-meta-b']).toBe('2');
    const list = await call(url, 'GET', `/v1/${a}/c?format=json`);
    const items = JSON.parse(list.text);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ name: 'file.txt', bytes: 5, hash: '5d41402abc4b2a76b9719d911017c592', content_type: 'text/plain' });
    const ch = await call(url, 'HEAD', `/v1/${a}/c`);
    expect(ch.headers['x-container-object-count']).toBe('1');
    expect(ch.headers['x-container-bytes-used']).toBe('5');
    expect((await call(url, 'DELETE', `/v1/${a}/c/file.txt`)).status).toBe(204);
    expect((await call(url, 'GET', `/v1/${a}/c/file.txt`)).status).toBe(404);
    expect((await call(url, 'HEAD', `/v1/${a}/c/file.txt`)).status).toBe(404);
    expect((await call(url, 'DELETE', `/v1/${a}/c/file.txt`)).status).toBe(404);
    expect((await call(url, 'POST', `/v1/${a}/c/file.txt`)).status).toBe(404);
  });

  it("guesses the content type from the path's extension with Python's table (Debian's /etc/mime.types)", async () => {
    const a = uniq('AUTH_o');
    await mkContainer(a, 'c');
    const cases = [
      ['c', 'application/octet-stream'],
      ['d/c', 'application/octet-stream'],
      ['d.txt/c', 'application/octet-stream'],
      ['.json', 'application/octet-stream'],
      ['x.c', 'text/x-csrc'],
      ['p.json', 'application/json'],
      ['song.wav', 'audio/x-wav'],
      ['PHOTO.JPG', 'image/jpeg'],
      ['a.tar.gz', 'application/x-tar'],
      ['a.TGZ', 'application/x-tar'],
      ['a.tar.GZ', 'application/gzip'],
      ['%C3%A9t%C3%A9.html', 'text/html'],
    ];
    for (const [name, type] of cases) {
      expect((await call(url, 'PUT', `/v1/${a}/c/${name}`, { 'content-length': '0' })).status).toBe(201);
      expect((await call(url, 'HEAD', `/v1/${a}/c/${name}`)).headers['content-type'], name).toBe(type);
    }
    // X-Detect-Content-Type: the guess replaces the type the client sent.
    expect((await call(url, 'PUT', `/v1/${a}/c/t.svg`, { 'content-length': '0', 'content-type': 'text/plain', 'x-detect-content-type': 'true' })).status).toBe(201);
    expect((await call(url, 'HEAD', `/v1/${a}/c/t.svg`)).headers['content-type']).toBe('image/svg+xml');
  });

  it('answers 411 without Content-Length or chunked encoding', async () => {
    const a = uniq('AUTH_o');
    await mkContainer(a, 'c');
    const host = new URL(url).host;
    const r = await rawRequest(url, `PUT /v1/${a}/c/o HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBe(411);
    expect(r.text.endsWith('\r\n\r\nMissing Content-Length header.')).toBe(true);
    expect((await call(url, 'HEAD', `/v1/${a}/c/o`)).status).toBe(404);
  });

  it('answers Transfer-Encodings other than chunked as swob does: several codings 501, one 400, "Chunked" 411', async () => {
    const a = uniq('AUTH_o');
    await mkContainer(a, 'c');
    const host = new URL(url).host;
    const put = (te: string) => rawRequest(url, `PUT /v1/${a}/c/o HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: ${te}\r\nConnection: close\r\n\r\n0\r\n\r\n`);
    const several = await put('gzip, chunked');
    expect(several.status).toBe(501);
    expect(several.text.endsWith('\r\n\r\nUnsupported Transfer-Coding header value specified in Transfer-Encoding header')).toBe(true);
    // Compared with 'chunked' as sent, so another spelling has no length (constraints.check_object_creation).
    const capital = await put('Chunked');
    expect(capital.status).toBe(411);
    expect((await call(url, 'HEAD', `/v1/${a}/c/o`)).status).toBe(404);
  });

  it('answers 413 above max_file_size', async () => {
    const a = uniq('AUTH_o');
    await mkContainer(a, 'c');
    const r = await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': String(5_368_709_123) }, { body: '' }).catch((e: Error) => e);
    // The proxy may answer before the body arrives and close the connection.
    if (r instanceof Error) throw r;
    expect(r.status).toBe(413);
    expect(r.text).toBe('Your request is too large.');
  });

  it('answers 422 when the ETag does not match the body', async () => {
    const a = uniq('AUTH_o');
    await mkContainer(a, 'c');
    const r = await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': '5', etag: '0'.repeat(32) }, { body: 'hello' });
    expect(r.status).toBe(422);
    expect((await call(url, 'HEAD', `/v1/${a}/c/o`)).status).toBe(404);
    for (const d of await direct(cl.proxy.state.rings.object.get(0)!, 'HEAD', [a, 'c', 'o'], { 'x-backend-storage-policy-index': '0' })) {
      expect(d.status).toBe(404);
    }
  });

  it('answers 404 for a PUT to a missing container', async () => {
    const a = uniq('AUTH_o');
    await mkContainer(a, 'c');
    expect((await call(url, 'PUT', `/v1/${a}/nope/o`, { 'content-length': '1' }, { body: 'x' })).status).toBe(404);
    expect((await call(url, 'GET', `/v1/${a}/nope/o`)).status).toBe(404);
  });

  it('limits object name length', async () => {
    const a = uniq('AUTH_o');
    await mkContainer(a, 'c');
    expect((await call(url, 'PUT', `/v1/${a}/c/${'o'.repeat(1024)}`, { 'content-length': '0' })).status).toBe(201);
    const r = await call(url, 'PUT', `/v1/${a}/c/${'o'.repeat(1025)}`, { 'content-length': '0' });
    expect(r.status).toBe(400);
    expect(r.text).toBe('Object name length of 1025 longer than 1024');
  });

  it('checks X-Delete-After / X-Delete-At', async () => {
    const a = uniq('AUTH_o');
    await mkContainer(a, 'c');
    const r1 = await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': '0', 'x-delete-after': 'abc' });
    expect(r1.status).toBe(400);
    expect(r1.text).toBe('Non-integer X-Delete-After');
    const r2 = await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': '0', 'x-delete-at': '1000' });
    expect(r2.status).toBe(400);
    expect(r2.text).toBe('X-Delete-At in past');
    const r3 = await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': '0', 'x-delete-after': '3600' });
    expect(r3.status).toBe(201);
    const h = await call(url, 'HEAD', `/v1/${a}/c/o`);
    expect(Number(h.headers['x-delete-at'])).toBeGreaterThan(Date.now() / 1000);
  });

  it('supports If-None-Match: * only', async () => {
    const a = uniq('AUTH_o');
    await mkContainer(a, 'c');
    const bad = await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': '0', 'if-none-match': 'abc' });
    expect(bad.status).toBe(400);
    expect((await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': '0', 'if-none-match': '*' })).status).toBe(201);
    expect((await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': '0', 'if-none-match': '*' })).status).toBe(412);
  });

  it('serves ranges and conditional requests', async () => {
    const a = uniq('AUTH_o');
    await mkContainer(a, 'c');
    await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': '10' }, { body: '0123456789' });
    const r = await call(url, 'GET', `/v1/${a}/c/o`, { range: 'bytes=2-4' });
    expect(r.status).toBe(206);
    expect(r.text).toBe('234');
    const etag = r.headers.etag as string;
    expect((await call(url, 'GET', `/v1/${a}/c/o`, { 'if-none-match': etag })).status).toBe(304);
    expect((await call(url, 'GET', `/v1/${a}/c/o`, { 'if-match': 'nope' })).status).toBe(412);
    expect((await call(url, 'GET', `/v1/${a}/c/o`, { range: 'bytes=20-30' })).status).toBe(416);
  });

  it('advertises Accept-Ranges: bytes on answers from a good source only, as Swift 2.30 does', async () => {
    const a = uniq('AUTH_ar');
    // The fake listing of a missing (autocreate) account comes from no backend: no header.
    const fake = await call(url, 'HEAD', `/v1/${a}`);
    expect(fake.status).toBe(200);
    expect(fake.headers['accept-ranges']).toBeUndefined();
    await mkContainer(a, 'c');
    await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': '10' }, { body: '0123456789' });
    for (const [method, path, query, status] of [
      ['HEAD', `/v1/${a}`, '', 204],
      ['GET', `/v1/${a}`, '', 200],
      ['GET', `/v1/${a}`, '?format=json', 200],
      ['HEAD', `/v1/${a}/c`, '', 204],
      ['GET', `/v1/${a}/c`, '', 200],
      ['GET', `/v1/${a}/c`, '?format=json', 200],
      ['HEAD', `/v1/${a}/c/o`, '', 200],
      ['GET', `/v1/${a}/c/o`, '', 200],
    ] as const) {
      const r = await call(url, method, path + query);
      expect([method, path, query, r.status]).toEqual([method, path, query, status]);
      expect(r.headers['accept-ranges'], `${method} ${path}${query}`).toBe('bytes');
    }
    const etag = (await call(url, 'HEAD', `/v1/${a}/c/o`)).headers.etag as string;
    for (const [headers, status, advertised] of [
      [{ range: 'bytes=2-4' }, 206, true],
      [{ 'if-none-match': etag }, 304, true],
      [{ range: 'bytes=20-30' }, 416, true],
      [{ 'if-match': 'nope' }, 412, false],
    ] as const) {
      const r = await call(url, 'GET', `/v1/${a}/c/o`, headers);
      expect(r.status).toBe(status);
      expect(r.headers['accept-ranges'], JSON.stringify(headers)).toBe(advertised ? 'bytes' : undefined);
    }
    // Misses and writes carry no Accept-Ranges.
    expect((await call(url, 'HEAD', `/v1/${a}/c/missing`)).headers['accept-ranges']).toBeUndefined();
    expect((await call(url, 'GET', `/v1/${a}/missing`)).headers['accept-ranges']).toBeUndefined();
    const put = await call(url, 'PUT', `/v1/${a}/c/p`, { 'content-length': '1' }, { body: 'x' });
    expect(put.status).toBe(201);
    expect(put.headers['accept-ranges']).toBeUndefined();
    const post = await call(url, 'POST', `/v1/${a}/c`, { 'X-Container-Meta-A': 'b' });
    expect(post.status).toBe(204);
    expect(post.headers['accept-ranges']).toBeUndefined();
  });

  it('lists Allow in Swift 2.30.1 order on 405, and HEAD errors carry no default body length', async () => {
    const a = uniq('AUTH_o');
    await mkContainer(a, 'c');
    const r = await call(url, 'PATCH', `/v1/${a}/c/o`);
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('OPTIONS, POST, PUT, GET, DELETE, HEAD');
    const h = await call(url, 'HEAD', `/v1/${a}/c/missing`);
    expect(h.status).toBe(404);
    expect(h.headers['content-length']).toBe('0');
  });

  it('answers OPTIONS without Origin with 200 and Allow', async () => {
    const a = uniq('AUTH_o');
    await mkContainer(a, 'c');
    for (const path of [`/v1/${a}`, `/v1/${a}/c`, `/v1/${a}/c/o`]) {
      const r = await call(url, 'OPTIONS', path);
      expect(r.status, path).toBe(200);
      expect(String(r.headers.allow)).toContain('GET');
      expect(String(r.headers.allow)).toContain('OPTIONS');
    }
  });
});

describe('listings', () => {
  let a: string;
  beforeAll(async () => {
    a = uniq('AUTH_l');
    await mkContainer(a, 'c1');
    await mkContainer(a, 'c2');
    await mkContainer(a, 'empty');
    for (const o of ['a', 'b/x', 'b/y', 'c']) await call(url, 'PUT', `/v1/${a}/c1/${o}`, { 'content-length': '1' }, { body: 'z' });
  });

  it('renders plain, json and xml, by query or Accept', async () => {
    const plain = await call(url, 'GET', `/v1/${a}/c1`);
    expect(plain.status).toBe(200);
    expect(plain.text).toBe('a\nb/x\nb/y\nc\n');
    expect(plain.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(plain.headers.vary).toBe('Accept');
    const json = await call(url, 'GET', `/v1/${a}/c1?format=json`);
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(json.text)).toHaveLength(4);
    expect(json.headers.vary).toBeUndefined();
    const xml = await call(url, 'GET', `/v1/${a}/c1`, { accept: 'application/xml' });
    expect(xml.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(xml.text).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<container name="c1"><object><name>a<\/name>/);
    const acc = await call(url, 'GET', `/v1/${a}?format=json`);
    expect(JSON.parse(acc.text).map((i: { name: string }) => i.name)).toEqual(['c1', 'c2', 'empty']);
    const accXml = await call(url, 'GET', `/v1/${a}?format=xml`);
    expect(accXml.text).toContain(`<account name="${a}">\n<container><name>c1</name>`);
  });

  it('passes listing parameters through', async () => {
    expect((await call(url, 'GET', `/v1/${a}/c1?delimiter=/`)).text).toBe('a\nb/\nc\n');
    expect((await call(url, 'GET', `/v1/${a}/c1?prefix=b/&limit=1`)).text).toBe('b/x\n');
    expect((await call(url, 'GET', `/v1/${a}/c1?marker=b/x&end_marker=c`)).text).toBe('b/y\n');
    expect((await call(url, 'GET', `/v1/${a}/c1?reverse=true`)).text).toBe('c\nb/y\nb/x\na\n');
    expect((await call(url, 'GET', `/v1/${a}?limit=1&marker=c1`)).text).toBe('c2\n');
  });

  it('reads the query as swob does: the last of a repeated parameter, 400 for a format that is not UTF-8', async () => {
    expect((await call(url, 'GET', `/v1/${a}/c1?prefix=a&prefix=b/`)).text).toBe('b/x\nb/y\n');
    expect((await call(url, 'GET', `/v1/${a}/c1?format=xml&format=json`)).headers['content-type']).toBe('application/json; charset=utf-8');
    const bad = await call(url, 'GET', `/v1/${a}/c1?format=%FF`);
    expect(bad.status).toBe(400);
    expect(bad.text).toBe('"format" parameter not valid UTF-8');
  });

  it('answers 204 for an empty listing, and 200 [] for json', async () => {
    const r = await call(url, 'GET', `/v1/${a}/empty`);
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    const j = await call(url, 'GET', `/v1/${a}/empty?format=json`);
    expect(j.status).toBe(200);
    expect(j.text).toBe('[]');
  });

  it('gives HEAD the negotiated content type', async () => {
    const h = await call(url, 'HEAD', `/v1/${a}/c1?format=json`);
    expect(h.status).toBe(204);
    expect(h.headers['content-type']).toBe('application/json; charset=utf-8');
    const h2 = await call(url, 'HEAD', `/v1/${a}`, { accept: 'text/xml' });
    expect(h2.headers['content-type']).toBe('text/xml; charset=utf-8');
  });

  it('answers 406 for an unacceptable Accept', async () => {
    expect((await call(url, 'GET', `/v1/${a}/c1`, { accept: 'image/png' })).status).toBe(406);
    expect((await call(url, 'GET', `/v1/${a}`, { accept: 'image/png' })).status).toBe(406);
  });

  it('answers 412 for limit above 10000', async () => {
    const r = await call(url, 'GET', `/v1/${a}/c1?limit=10001`);
    expect(r.status).toBe(412);
    expect(r.text).toBe('Maximum limit is 10000');
    const r2 = await call(url, 'GET', `/v1/${a}?limit=10001`);
    expect(r2.status).toBe(412);
    expect((await call(url, 'GET', `/v1/${a}/c1?limit=10000`)).status).toBe(200);
  });
});
