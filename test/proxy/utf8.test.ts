/**
 * UTF-8 everywhere: account, container, object and metadata names with non-ASCII (BMP,
 * astral, combining marks) and reserved characters round-trip through every verb, every
 * listing format, ACLs, COPY, bulk delete, tempurl and symlinks, through the whole proxy
 * pipeline and the storage servers. Paths are percent-encoded as clients do (urllib quote);
 * header values go out as raw UTF-8 bytes, as curl and swiftclient send them, and must come
 * back as the same bytes. Invalid UTF-8 and NUL in paths are 412 with Swift's body at every
 * level, never a 500.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { DEV_PROXY_CONF } from '../../src/cluster/dev-cluster';
import { DEVELOPMENT_USERS } from '../../src/middleware/tempauth/config';
import { quote } from '../../src/compat/quote';
import { request as httpRequest } from 'node:http';
import { direct, rawRequest, type Resp } from './helpers';

// ------------------------------------------------------------------ names

interface NameCase {
  label: string;
  name: string;
}

/** Container-safe names (no `/`), each also used for objects and accounts. */
const NAMES: NameCase[] = [
  { label: 'latin-1 accents', name: 'café crème' },
  { label: 'CJK', name: '日本語' },
  { label: 'emoji (astral plane)', name: 'grin 😀' },
  { label: 'musical symbol (astral plane)', name: '𝄞 clef' },
  { label: 'combining marks (NFD, kept as sent)', name: 'e\u0301te\u0301' },
  // U+FF01 sorts after the surrogate range in UTF-16 but before astral characters in code
  // point (UTF-8) order: listings must use the latter.
  { label: 'fullwidth forms', name: '！ｗｉｄｅ' },
  { label: 'reserved and special characters', name: ` sp %+?#&;='"<>\\~* ` },
  { label: 'literal percent escapes', name: '100%25 %zz %E9 %' },
];

/**
 * Object names: every container-safe name, plus the slash forms Swift allows in object names
 * (leading, trailing and repeated slashes, and `.`/`..` segments, which are never normalised).
 */
function objectNames(name: string): string[] {
  return [name, `${name}/child`, `/${name}`, `${name}/`, `a//${name}//b`, `./${name}/../x`];
}

/** What a client puts in a URL (swiftclient: urllib quote, `/` kept in object names only). */
const qc = (s: string) => quote(s, '');
const qo = (s: string) => quote(s, '/');

/** Python's b64encode without padding, for `user64_` keys. */
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64').replace(/=+$/, '');

// Users with non-ASCII names (user64_ lines): an account owner and a member of account test.
const U_ACCOUNT = 'ünïcødé';
const U_OWNER = 'jöß';
const U_OWNER_KEY = 'sëcret';
const U_MEMBER = 'tëster😀';
const U_MEMBER_KEY = 'testing9';

const CONF = DEV_PROXY_CONF.replace(
  '[filter:tempauth]\nuse = egg:swift#tempauth\n',
  [
    '[filter:tempauth]',
    'use = egg:swift#tempauth',
    ...Object.entries(DEVELOPMENT_USERS).map(([k, v]) => `${k} = ${v}`),
    `user64_${b64(U_ACCOUNT)}_${b64(U_OWNER)} = ${U_OWNER_KEY} .admin`,
    `user64_${b64('test')}_${b64(U_MEMBER)} = ${U_MEMBER_KEY}`,
    '',
  ].join('\n'),
);

// ------------------------------------------------------------------ client

interface Reply extends Resp {
  /** A response header as UTF-8 text (Node hands header bytes over as latin-1). */
  header(name: string): string | undefined;
  /** A response header's raw bytes. */
  headerBytes(name: string): Buffer | undefined;
  json(): unknown;
}

/** Header values: text goes out as its UTF-8 bytes; a Buffer goes out byte for byte. */
type HeaderValue = string | Buffer;

let cluster: TestCluster;
let tok: string;
let adminTok: string;
let seq = 0;

function wrap(res: Resp): Reply {
  const one = (name: string) => {
    const v = res.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  return {
    ...res,
    header: (name) => {
      const v = one(name);
      return v === undefined ? undefined : Buffer.from(v, 'latin1').toString('utf8');
    },
    headerBytes: (name) => {
      const v = one(name);
      return v === undefined ? undefined : Buffer.from(v, 'latin1');
    },
    json: () => JSON.parse(res.text),
  };
}

/**
 * One request on a fresh connection, the path sent as given. Headers go out as a raw list
 * (Node's object form re-encodes some values, e.g. Content-Disposition) with a Buffer body
 * (a string body makes Node write the header block as UTF-8, double-encoding latin-1 values).
 */
function req(method: string, path: string, headers: Record<string, HeaderValue> = {}, body?: string | Buffer): Promise<Reply> {
  const url = new URL(cluster.url);
  const buf = body === undefined ? undefined : Buffer.from(body);
  const list: string[] = ['Host', url.host];
  for (const [k, v] of Object.entries(headers)) list.push(k, (Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8')).toString('latin1'));
  if (buf !== undefined) list.push('Content-Length', String(buf.length));
  else if (method === 'PUT' || method === 'POST' || method === 'COPY') list.push('Content-Length', '0');
  return new Promise((resolve, reject) => {
    const r = httpRequest({ host: url.hostname, port: url.port, method, path, headers: list, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve(wrap({ status: res.statusCode!, headers: res.headers, raw, text: raw.toString('utf8') }));
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    r.setTimeout(30_000, () => r.destroy(new Error(`timeout on ${method} ${path}`)));
    r.end(buf);
  });
}

const as = (token: string) => (method: string, path: string, headers: Record<string, HeaderValue> = {}, body?: string | Buffer) =>
  req(method, path, { 'X-Auth-Token': token, ...headers }, body);
const owner = (method: string, path: string, headers: Record<string, HeaderValue> = {}, body?: string | Buffer) => as(tok)(method, path, headers, body);

async function login(user: string, key: string): Promise<{ token: string; url: string }> {
  const res = await req('GET', '/auth/v1.0', { 'X-Auth-User': user, 'X-Auth-Key': key });
  expect(res.status, `login ${user}`).toBe(200);
  return { token: res.header('x-auth-token')!, url: res.header('x-storage-url')! };
}

/** A fresh container name ending in `name`, created in AUTH_test. */
async function container(name: string, headers: Record<string, HeaderValue> = {}): Promise<string> {
  seq += 1;
  const c = `u${seq}x${Math.random().toString(36).slice(2, 6)} ${name}`;
  const res = await owner('PUT', `/v1/AUTH_test/${qc(c)}`, headers);
  expect(res.status, res.text).toBe(201);
  return c;
}

/** Names from a JSON listing. */
const names = (res: Reply) => (res.json() as { name?: string; subdir?: string }[]).map((e) => e.name ?? `subdir:${e.subdir}`);

/** Sorts like Swift's listings: by UTF-8 bytes (code point order), not UTF-16 units. */
const byCodePoint = (list: string[]) => [...list].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

/** ElementTree's text and attribute escaping, written out for the expectations. */
const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const xmlAttr = (s: string) => xmlText(s).replace(/"/g, '&quot;');

beforeAll(async () => {
  cluster = await startCluster({ proxyConfig: CONF });
  tok = (await login('test:tester', 'testing')).token;
  adminTok = (await login('admin:admin', 'admin')).token;
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

// ------------------------------------------------------------------ objects and containers

describe.each(NAMES)('names: $label', ({ name }) => {
  it('container PUT, HEAD, POST (metadata), listing in the account, DELETE', async () => {
    const c = await container(name, { 'X-Container-Meta-Label': `${name} ✓` });
    const path = `/v1/AUTH_test/${qc(c)}`;
    const head = await owner('HEAD', path);
    expect(head.status).toBe(204);
    expect(head.header('x-container-meta-label')).toBe(`${name} ✓`.trim());
    expect((await owner('POST', path, { 'X-Container-Meta-Other': `${name}😀` })).status).toBe(204);
    const after = await owner('HEAD', path);
    expect(after.header('x-container-meta-other')).toBe(`${name}😀`.trim());
    expect(after.header('x-container-meta-label')).toBe(`${name} ✓`.trim());

    const listing = await owner('GET', `/v1/AUTH_test?format=json&prefix=${qc(c)}`);
    expect(listing.status).toBe(200);
    expect(names(listing)).toEqual([c]);

    expect((await owner('DELETE', path)).status).toBe(204);
    expect((await owner('HEAD', path)).status).toBe(404);
  });

  it('object PUT, HEAD, GET, POST, COPY, X-Copy-From, listing and DELETE for every slash form', async () => {
    const c = await container(name);
    const objects = objectNames(name);
    for (const o of objects) {
      const path = `/v1/AUTH_test/${qc(c)}/${qo(o)}`;
      const body = `body of ${o}`;
      const put = await owner('PUT', path, { 'X-Object-Meta-Name': `[${o}]`, 'Content-Type': 'text/plain' }, body);
      expect(put.status, `PUT ${o}: ${put.text}`).toBe(201);

      const head = await owner('HEAD', path);
      expect(head.status).toBe(200);
      expect(head.header('content-length')).toBe(String(Buffer.byteLength(body)));
      expect(head.headerBytes('x-object-meta-name')).toEqual(Buffer.from(`[${o}]`, 'utf8'));

      const get = await owner('GET', path);
      expect(get.status).toBe(200);
      expect(get.text).toBe(body);
      expect(get.header('x-object-meta-name')).toBe(`[${o}]`);

      // POST replaces all user metadata.
      expect((await owner('POST', path, { 'X-Object-Meta-Changed': `${o} ✓` })).status).toBe(202);
      const posted = await owner('HEAD', path);
      expect(posted.header('x-object-meta-changed')).toBe(`${o} ✓`.trim());
      expect(posted.header('x-object-meta-name')).toBeUndefined();

      // COPY with a percent-encoded UTF-8 Destination.
      const copy = await owner('COPY', path, { Destination: `/${qc(c)}/${qo(`${o} copy`)}` });
      expect(copy.status, `COPY ${o}: ${copy.text}`).toBe(201);
      expect(copy.header('x-copied-from')).toBe(qo(`${c}/${o}`));
      expect(copy.header('x-copied-from-account')).toBe('AUTH_test');
      const copied = await owner('GET', `/v1/AUTH_test/${qc(c)}/${qo(`${o} copy`)}`);
      expect(copied.text).toBe(body);
      expect(copied.header('x-object-meta-changed')).toBe(`${o} ✓`.trim());

      // PUT with X-Copy-From, also percent-encoded.
      const xcf = await owner('PUT', `/v1/AUTH_test/${qc(c)}/${qo(`${o} xcf`)}`, { 'X-Copy-From': `/${qc(c)}/${qo(o)}` });
      expect(xcf.status, `X-Copy-From ${o}: ${xcf.text}`).toBe(201);
      expect(xcf.header('x-copied-from')).toBe(qo(`${c}/${o}`));
      expect((await owner('GET', `/v1/AUTH_test/${qc(c)}/${qo(`${o} xcf`)}`)).text).toBe(body);
    }

    const all = objects.flatMap((o) => [o, `${o} copy`, `${o} xcf`]);
    const json = await owner('GET', `/v1/AUTH_test/${qc(c)}?format=json`);
    expect(json.status).toBe(200);
    expect(names(json)).toEqual(byCodePoint(all));
    // Python's json.dumps(ensure_ascii=True): every non-ASCII character is a \u escape.
    expect(json.text).toMatch(/^[\x20-\x7e]*$/);

    const plain = await owner('GET', `/v1/AUTH_test/${qc(c)}`);
    expect(plain.header('content-type')).toBe('text/plain; charset=utf-8');
    expect(plain.raw).toEqual(Buffer.from(byCodePoint(all).map((n) => `${n}\n`).join(''), 'utf8'));

    const xml = await owner('GET', `/v1/AUTH_test/${qc(c)}?format=xml`);
    expect(xml.header('content-type')).toBe('application/xml; charset=utf-8');
    const entries = json.json() as { name: string; hash: string; bytes: number; content_type: string; last_modified: string }[];
    expect(xml.text).toBe(
      `<?xml version="1.0" encoding="UTF-8"?>\n<container name="${xmlAttr(c)}">` +
        entries
          .map(
            (e) =>
              `<object><name>${xmlText(e.name)}</name><hash>${e.hash}</hash><bytes>${e.bytes}</bytes>` +
              `<content_type>${xmlText(e.content_type)}</content_type><last_modified>${e.last_modified}</last_modified></object>`,
          )
          .join('') +
        '</container>',
    );

    for (const o of all) expect((await owner('DELETE', `/v1/AUTH_test/${qc(c)}/${qo(o)}`)).status, `DELETE ${o}`).toBe(204);
    for (const o of all) expect((await owner('GET', `/v1/AUTH_test/${qc(c)}/${qo(o)}`)).status).toBe(404);
    const empty = await owner('GET', `/v1/AUTH_test/${qc(c)}?format=json`);
    expect(empty.json()).toEqual([]);
    expect((await owner('DELETE', `/v1/AUTH_test/${qc(c)}`)).status).toBe(204);
  });

  it('stores the decoded name on the storage servers (hashed and listed by its UTF-8 text)', async () => {
    const c = await container(name);
    expect((await owner('PUT', `/v1/AUTH_test/${qc(c)}/${qo(name)}`, {}, 'x')).status).toBe(201);
    const rings = cluster.proxy.state.rings;
    const stored = await direct(rings.object.get(0)!, 'HEAD', ['AUTH_test', c, name], { 'X-Backend-Storage-Policy-Index': '0' });
    expect(stored.map((r) => r.status)).toEqual(stored.map(() => 200));
    for (const r of await direct(rings.container, 'GET', ['AUTH_test', c], { Accept: 'application/json' })) {
      expect(r.status).toBe(200);
      expect((JSON.parse(r.text) as { name: string }[]).map((e) => e.name)).toEqual([name]);
    }
  });
});

describe('paths clients send', () => {
  it('accepts reserved characters left unencoded in the request line', async () => {
    const c = await container('raw');
    const o = `é ;=&'*~+"<>\\|^\`{}[]!$(),:@`;
    // Only the space and the non-ASCII characters are encoded; '+' in a path is a plus.
    const target = `/v1/AUTH_test/${qc(c)}/${o.replace(/ /g, '%20').replace('é', '%C3%A9')}`;
    const put = await rawRequest(cluster.url, `PUT ${target} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${tok}\r\nContent-Length: 3\r\nConnection: close\r\n\r\nraw`);
    expect(put.status).toBe(201);
    expect(names(await owner('GET', `/v1/AUTH_test/${qc(c)}?format=json`))).toEqual([o]);
    expect((await owner('GET', `/v1/AUTH_test/${qc(c)}/${qo(o)}`)).text).toBe('raw');
    // Lower-case escapes decode the same.
    expect((await owner('GET', `/v1/AUTH_test/${qc(c)}/${qo(o).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`)).text).toBe('raw');
    // A raw backslash in the path is a name character too (regression: it was a bare 400).
    const bs = await rawRequest(cluster.url, `GET /v1/AUTH_test/${qc(c)}/${qo(o).replace('%5C', '\\')} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${tok}\r\nConnection: close\r\n\r\n`);
    expect(bs.status).toBe(200);
  });

  it('takes Destination and X-Copy-From as raw UTF-8 too', async () => {
    const c = await container('dest');
    expect((await owner('PUT', `/v1/AUTH_test/${qc(c)}/${qo('src é')}`, {}, 'src')).status).toBe(201);
    const copy = await owner('COPY', `/v1/AUTH_test/${qc(c)}/${qo('src é')}`, { Destination: `${c}/dst 日本` });
    expect(copy.status).toBe(201);
    expect((await owner('GET', `/v1/AUTH_test/${qc(c)}/${qo('dst 日本')}`)).text).toBe('src');
    const xcf = await owner('PUT', `/v1/AUTH_test/${qc(c)}/${qo('dst 😀')}`, { 'X-Copy-From': `${c}/src é` });
    expect(xcf.status).toBe(201);
    expect((await owner('GET', `/v1/AUTH_test/${qc(c)}/${qo('dst 😀')}`)).text).toBe('src');
  });
});

// ------------------------------------------------------------------ metadata

describe('metadata values are bytes', () => {
  const VALUE = 'Zürich 日本語 😀 𝄞 e\u0301 "<&>" \\ %41';

  it('object, container and account metadata come back as the UTF-8 bytes sent', async () => {
    const c = await container('meta', { 'X-Container-Meta-Town': VALUE });
    expect((await owner('HEAD', `/v1/AUTH_test/${qc(c)}`)).headerBytes('x-container-meta-town')).toEqual(Buffer.from(VALUE));
    expect((await owner('GET', `/v1/AUTH_test/${qc(c)}`)).headerBytes('x-container-meta-town')).toEqual(Buffer.from(VALUE));

    const o = `/v1/AUTH_test/${qc(c)}/o`;
    expect((await owner('PUT', o, { 'X-Object-Meta-Town': VALUE }, 'x')).status).toBe(201);
    expect((await owner('HEAD', o)).headerBytes('x-object-meta-town')).toEqual(Buffer.from(VALUE));
    expect((await owner('GET', o)).headerBytes('x-object-meta-town')).toEqual(Buffer.from(VALUE));

    expect((await owner('POST', '/v1/AUTH_test', { 'X-Account-Meta-Town': VALUE })).status).toBe(204);
    expect((await owner('HEAD', '/v1/AUTH_test')).headerBytes('x-account-meta-town')).toEqual(Buffer.from(VALUE));
    expect((await owner('POST', '/v1/AUTH_test', { 'X-Remove-Account-Meta-Town': 'x' })).status).toBe(204);
  });

  it('keeps object metadata that is not UTF-8 byte for byte (Swift checks only account and container metadata)', async () => {
    const c = await container('rawmeta');
    const bytes = Buffer.from([0x41, 0xff, 0xfe, 0xc3, 0x28, 0xe9, 0x42]);
    const o = `/v1/AUTH_test/${qc(c)}/o`;
    expect((await owner('PUT', o, { 'X-Object-Meta-Bin': bytes }, 'x')).status).toBe(201);
    expect((await owner('HEAD', o)).headerBytes('x-object-meta-bin')).toEqual(bytes);
    expect((await owner('GET', o)).headerBytes('x-object-meta-bin')).toEqual(bytes);
  });

  it('keeps non-ASCII Content-Type and Content-Disposition bytes, and lists the content type as text', async () => {
    const c = await container('ctype');
    const o = `/v1/AUTH_test/${qc(c)}/o`;
    const ctype = 'text/plain; name="日本 😀"';
    const disposition = 'attachment; filename="résumé 😀.pdf"';
    const put = await owner('PUT', o, { 'Content-Type': ctype, 'Content-Disposition': disposition }, 'x');
    expect(put.status, put.text).toBe(201);
    const head = await owner('HEAD', o);
    expect(head.headerBytes('content-type')).toEqual(Buffer.from(ctype));
    expect(head.headerBytes('content-disposition')).toEqual(Buffer.from(disposition));
    const listed = (await owner('GET', `/v1/AUTH_test/${qc(c)}?format=json`)).json() as { content_type: string }[];
    // Listings re-join parameters as Swift's extract_swift_bytes does (";k=v", no space).
    expect(listed[0]!.content_type).toBe('text/plain;name="日本 😀"');
    // A Content-Type that is not UTF-8 is refused, as Swift's check_object_creation does.
    const bad = await owner('PUT', o, { 'Content-Type': Buffer.from([0x74, 0x2f, 0xff]) }, 'x');
    expect(bad.status).toBe(400);
    expect(bad.text).toBe('Invalid Content-Type');
  });

  it('refuses non-ASCII metadata header names at the HTTP parser (400), storing nothing', async () => {
    // HTTP field names are tokens (RFC 9110); Node's parser rejects other bytes, where eventlet
    // would pass them on. Clients cannot send them through Node's or most other HTTP clients.
    const c = await container('hdrname');
    const res = await rawRequest(
      cluster.url,
      Buffer.concat([
        Buffer.from(`PUT /v1/AUTH_test/${qc(c)}/o HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${tok}\r\nX-Object-Meta-`),
        Buffer.from('Ünï', 'utf8'),
        Buffer.from(': v\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx'),
      ]),
    );
    expect(res.status).toBe(400);
    expect((await owner('HEAD', `/v1/AUTH_test/${qc(c)}/o`)).status).toBe(404);
  });

  it('refuses account and container metadata that is not UTF-8 with 400 "Metadata must be valid UTF-8"', async () => {
    const bad = Buffer.from([0x61, 0xff, 0x62]);
    const cput = await owner('PUT', `/v1/AUTH_test/${qc(`badmeta ${seq}`)}`, { 'X-Container-Meta-Bad': bad });
    expect(cput.status).toBe(400);
    expect(cput.text).toBe('Metadata must be valid UTF-8');
    const c = await container('badmeta');
    const cpost = await owner('POST', `/v1/AUTH_test/${qc(c)}`, { 'X-Container-Meta-Bad': bad });
    expect(cpost.status).toBe(400);
    expect(cpost.text).toBe('Metadata must be valid UTF-8');
    const apost = await owner('POST', '/v1/AUTH_test', { 'X-Account-Meta-Bad': Buffer.from([0xed, 0xa0, 0x80]) });
    expect(apost.status).toBe(400);
    expect(apost.text).toBe('Metadata must be valid UTF-8');
  });

  it('counts metadata length in bytes, as Swift does (a 128-character value of 2-byte characters is 256 bytes)', async () => {
    const c = await container('metalen');
    const o = `/v1/AUTH_test/${qc(c)}/o`;
    expect((await owner('PUT', o, { 'X-Object-Meta-Fits': 'é'.repeat(128) }, 'x')).status).toBe(201);
    const tooLong = await owner('PUT', o, { 'X-Object-Meta-Long': 'é'.repeat(129) }, 'x');
    expect(tooLong.status).toBe(400);
    // Swift's message: the lower-case prefix, then the rest of the title-cased header name.
    expect(tooLong.text).toBe('Metadata value longer than 256: x-object-meta-Long');
  });
});

// ------------------------------------------------------------------ listings

describe('listings with non-ASCII parameters', () => {
  const OBJECTS = ['été/a', 'été/b', 'été-x', 'étéz', '日本/語/x', '日本語', '😀/1', '😀😀', '！', 'zz', 'aéb', 'aé'];
  let c: string;

  beforeAll(async () => {
    c = await container('list');
    for (const o of OBJECTS) expect((await owner('PUT', `/v1/AUTH_test/${qc(c)}/${qo(o)}`, {}, o)).status).toBe(201);
  });

  const list = async (query: string) => {
    const res = await owner('GET', `/v1/AUTH_test/${qc(c)}?format=json&${query}`);
    expect(res.status, res.text).toBe(200);
    return names(res);
  };

  it('orders by code point (UTF-8 bytes)', async () => {
    expect(await list('')).toEqual(byCodePoint(OBJECTS));
    expect(await list('reverse=on')).toEqual(byCodePoint(OBJECTS).reverse());
  });

  it('filters by a non-ASCII prefix', async () => {
    expect(await list(`prefix=${qc('été')}`)).toEqual(['été-x', 'été/a', 'été/b', 'étéz']);
    expect(await list(`prefix=${qc('😀')}`)).toEqual(['😀/1', '😀😀']);
  });

  it('rolls up with a delimiter, ASCII or not', async () => {
    expect(await list('delimiter=/')).toEqual(['aé', 'aéb', 'zz', 'été-x', 'subdir:été/', 'étéz', 'subdir:日本/', '日本語', '！', 'subdir:😀/', '😀😀']);
    expect(await list(`prefix=${qc('日本/')}&delimiter=/`)).toEqual(['subdir:日本/語/']);
    expect(await list(`delimiter=${qc('é')}`)).toEqual(['subdir:aé', 'zz', 'subdir:é', '日本/語/x', '日本語', '！', '😀/1', '😀😀']);
    expect(await list(`delimiter=${qc('本')}`)).toEqual(['aé', 'aéb', 'zz', 'été-x', 'été/a', 'été/b', 'étéz', 'subdir:日本', '！', '😀/1', '😀😀']);
    expect(await list(`reverse=on&delimiter=${qc('本')}`)).toEqual(['😀😀', '😀/1', '！', 'subdir:日本', 'étéz', 'été/b', 'été/a', 'été-x', 'zz', 'aéb', 'aé']);
    expect(await list(`delimiter=${qc('😀')}`)).toEqual([...byCodePoint(OBJECTS).filter((n) => !n.startsWith('😀')), 'subdir:😀']);
    expect(await list(`prefix=${qc('😀')}&delimiter=${qc('😀')}`)).toEqual(['😀/1', 'subdir:😀😀']);
  });

  it('pages with non-ASCII markers, in code point order across the surrogate range', async () => {
    expect(await list(`marker=${qc('été/b')}`)).toEqual(byCodePoint(OBJECTS).filter((n) => Buffer.compare(Buffer.from(n), Buffer.from('été/b')) > 0));
    expect(await list(`marker=${qc('！')}`)).toEqual(['😀/1', '😀😀']);
    expect(await list(`end_marker=${qc('😀')}&marker=${qc('日本語')}`)).toEqual(['！']);
    expect(await list(`marker=${qc('日本')}&end_marker=${qc('！')}&limit=2`)).toEqual(['日本/語/x', '日本語']);
    expect(await list(`reverse=on&marker=${qc('😀')}&end_marker=${qc('日本語')}`)).toEqual(['！']);
  });

  it('takes a non-ASCII path= parameter', async () => {
    expect(await list(`path=${qc('été')}`)).toEqual(['été/a', 'été/b']);
    expect(await list(`path=${qc('日本/')}`)).toEqual([]);
    expect(await list(`path=${qc('😀')}`)).toEqual(['😀/1']);
  });

  it('plain and XML listings of subdirs escape and encode as Swift does', async () => {
    const plain = await owner('GET', `/v1/AUTH_test/${qc(c)}?delimiter=/&prefix=${qc('日本')}`);
    expect(plain.raw).toEqual(Buffer.from('日本/\n日本語\n', 'utf8'));
    const xml = await owner('GET', `/v1/AUTH_test/${qc(c)}?format=xml&delimiter=/&prefix=${qc('日本')}`);
    const entry = ((await owner('GET', `/v1/AUTH_test/${qc(c)}?format=json&prefix=${qc('日本語')}`)).json() as { hash: string; last_modified: string }[])[0]!;
    expect(xml.text).toBe(
      `<?xml version="1.0" encoding="UTF-8"?>\n<container name="${xmlAttr(c)}">` +
        '<subdir name="日本/"><name>日本/</name></subdir>' +
        `<object><name>日本語</name><hash>${entry.hash}</hash><bytes>9</bytes><content_type>application/octet-stream</content_type><last_modified>${entry.last_modified}</last_modified></object>` +
        '</container>',
    );
  });

  it('answers 400 for a listing parameter that is not UTF-8', async () => {
    for (const p of ['prefix', 'marker', 'end_marker', 'delimiter']) {
      const res = await owner('GET', `/v1/AUTH_test/${qc(c)}?${p}=%FF`);
      expect(res.status, p).toBe(400);
      expect(res.text).toBe(`"${p}" parameter not valid UTF-8`);
    }
    const acct = await owner('GET', '/v1/AUTH_test?prefix=%C0%AF');
    expect(acct.status).toBe(400);
    expect(acct.text).toBe('"prefix" parameter not valid UTF-8');
  });
});

describe('XML escaping of reserved characters in listings', () => {
  it('escapes & < > " in container and object names, and in subdir attributes', async () => {
    const c = await container('x&<y>"\'');
    const objs = ['a&b', '<tag>', '"q"/x', "it's"];
    for (const o of objs) expect((await owner('PUT', `/v1/AUTH_test/${qc(c)}/${qo(o)}`, {}, 'x')).status).toBe(201);
    const json = (await owner('GET', `/v1/AUTH_test/${qc(c)}?format=json&delimiter=/`)).json() as Record<string, unknown>[];
    const xml = await owner('GET', `/v1/AUTH_test/${qc(c)}?format=xml&delimiter=/`);
    expect(xml.text).toContain(`<container name="${c.split(' ')[0]} x&amp;&lt;y&gt;&quot;'">`);
    const expected =
      `<?xml version="1.0" encoding="UTF-8"?>\n<container name="${xmlAttr(c)}">` +
      json
        .map((e) =>
          e.subdir !== undefined
            ? `<subdir name="&quot;q&quot;/"><name>"q"/</name></subdir>`
            : `<object><name>${xmlText(e.name as string)}</name><hash>${e.hash}</hash><bytes>1</bytes><content_type>application/octet-stream</content_type><last_modified>${e.last_modified}</last_modified></object>`,
        )
        .join('') +
      '</container>';
    expect(xml.text).toBe(expected);
    expect(xml.text).toContain('<name>a&amp;b</name>');
    expect(xml.text).toContain('<name>&lt;tag&gt;</name>');
    expect(xml.text).toContain("<name>it's</name>");
  });
});

describe('name length limits count characters, not bytes', () => {
  it('allows 256-character container and 1024-character object names of multi-byte characters', async () => {
    const c = 'é'.repeat(256);
    expect((await owner('PUT', `/v1/AUTH_test/${qc(c)}`)).status).toBe(201);
    const long = await owner('PUT', `/v1/AUTH_test/${qc('é'.repeat(257))}`);
    expect(long.status).toBe(400);
    expect(long.text).toBe('Container name length of 257 longer than 256');
    const o = 'ü'.repeat(1024);
    expect((await owner('PUT', `/v1/AUTH_test/${qc(c)}/${qo(o)}`, {}, 'x')).status).toBe(201);
    const longObj = await owner('PUT', `/v1/AUTH_test/${qc(c)}/${qo(`${o}ü`)}`, {}, 'x');
    expect(longObj.status).toBe(400);
    expect(longObj.text).toBe('Object name length of 1025 longer than 1024');
    expect(names(await owner('GET', `/v1/AUTH_test/${qc(c)}?format=json`))).toEqual([o]);
    expect((await owner('DELETE', `/v1/AUTH_test/${qc(c)}/${qo(o)}`)).status).toBe(204);
    expect((await owner('DELETE', `/v1/AUTH_test/${qc(c)}`)).status).toBe(204);
  });

  it('answers 414 for a request line of 8192 bytes or more, as eventlet does (regression: a storage-server 400)', async () => {
    // 1024 CJK characters are 9216 bytes percent-encoded: too long a request line for Swift too.
    const cjk = await owner('PUT', `/v1/AUTH_test/c/${qo('日'.repeat(1024))}`, {}, 'x');
    expect(cjk.status).toBe(414);
    expect(cjk.raw.length).toBe(0);
    expect(cjk.header('connection')).toBe('close');
    // The limit counts the whole line: "GET " + target + " HTTP/1.1\r\n". (Measured on a request
    // the proxy answers itself: the storage servers' own limit applies to their longer paths.)
    const target = (n: number) => `/healthcheck?pad=${'x'.repeat(n - 'GET '.length - ' HTTP/1.1\r\n'.length - '/healthcheck?pad='.length)}`;
    expect((await owner('GET', target(8191))).status).toBe(200);
    expect((await owner('GET', target(8192))).status).toBe(414);
  });
});

describe('versioned writes with UTF-8 names', () => {
  it.each([
    ['percent-encoded', (s: string) => qc(s)],
    ['raw UTF-8', (s: string) => s],
  ])('archives under a non-ASCII X-Versions-Location given %s, with the length prefix in UTF-8 bytes', async (_form, enc) => {
    const archive = await container('archivé 😀');
    const c = await container('versioned', { 'X-Versions-Location': enc(archive) });
    expect((await owner('HEAD', `/v1/AUTH_test/${qc(c)}`)).header('x-versions-location')).toBe(enc(archive));
    const o = 'é😀/日本';
    const path = `/v1/AUTH_test/${qc(c)}/${qo(o)}`;
    expect((await owner('PUT', path, {}, 'v1')).status).toBe(201);
    expect((await owner('PUT', path, {}, 'v2')).status).toBe(201);
    // '%03x' of the name's UTF-8 length: 2 + 4 + 1 + 6 = 13 bytes (7 characters).
    const archived = names(await owner('GET', `/v1/AUTH_test/${qc(archive)}?format=json`));
    expect(archived).toHaveLength(1);
    expect(archived[0]).toMatch(/^00dé😀\/日本\/\d{10}\.\d{5}$/);
    expect((await owner('GET', `/v1/AUTH_test/${qc(archive)}/${qo(archived[0]!)}`)).text).toBe('v1');
    // DELETE restores the archived version.
    expect((await owner('DELETE', path)).status).toBe(204);
    expect((await owner('GET', path)).text).toBe('v1');
    expect(names(await owner('GET', `/v1/AUTH_test/${qc(archive)}?format=json`))).toEqual([]);
  });
});

describe('cross-account references with non-ASCII account names', () => {
  it('COPY with Destination-Account, PUT with X-Copy-From-Account and symlinks with X-Symlink-Target-Account', async () => {
    const admin = as(adminTok);
    const other = `AUTH_ötherü 😀${++seq}`;
    expect((await admin('PUT', `/v1/${qc(other)}`)).status).toBe(201);
    expect((await admin('PUT', `/v1/${qc(other)}/${qc('dst ✓')}`)).status).toBe(201);
    const c = await container('xacct');
    expect((await owner('PUT', `/v1/AUTH_test/${qc(c)}/${qo('src é')}`, { 'X-Object-Meta-K': 'ü' }, 'cross')).status).toBe(201);

    for (const acct of [qc(other), other]) {
      const copy = await admin('COPY', `/v1/AUTH_test/${qc(c)}/${qo('src é')}`, { Destination: `${qc('dst ✓')}/${qo('copy 日本')}`, 'Destination-Account': acct });
      expect(copy.status, copy.text).toBe(201);
      expect(copy.header('x-copied-from-account')).toBe('AUTH_test');
      const got = await admin('GET', `/v1/${qc(other)}/${qc('dst ✓')}/${qo('copy 日本')}`);
      expect(got.text).toBe('cross');
      expect(got.header('x-object-meta-k')).toBe('ü');

      const back = await admin('PUT', `/v1/AUTH_test/${qc(c)}/${qo('back 😀')}`, { 'X-Copy-From': `${qc('dst ✓')}/${qo('copy 日本')}`, 'X-Copy-From-Account': acct });
      expect(back.status, back.text).toBe(201);
      expect(back.header('x-copied-from-account')).toBe(qc(other));
      expect(back.header('x-copied-from')).toBe(qo('dst ✓/copy 日本'));
      expect((await owner('GET', `/v1/AUTH_test/${qc(c)}/${qo('back 😀')}`)).text).toBe('cross');

      const link = await admin('PUT', `/v1/AUTH_test/${qc(c)}/${qo('link ✓')}`, { 'X-Symlink-Target': `${qc('dst ✓')}/${qo('copy 日本')}`, 'X-Symlink-Target-Account': acct });
      expect(link.status, link.text).toBe(201);
      expect((await admin('GET', `/v1/AUTH_test/${qc(c)}/${qo('link ✓')}`)).text).toBe('cross');
      const head = await admin('HEAD', `/v1/AUTH_test/${qc(c)}/${qo('link ✓')}?symlink=get`);
      expect(head.header('x-symlink-target-account')).toBe(qc(other));
      expect(head.header('x-symlink-target')).toBe(qo('dst ✓/copy 日本'));
    }
  });
});

// ------------------------------------------------------------------ accounts

describe('accounts with non-ASCII names', () => {
  it.each(NAMES)('reseller admin lifecycle of AUTH_$name', async ({ name }) => {
    const account = `AUTH_${name}${++seq}`;
    const admin = as(adminTok);
    const path = `/v1/${qc(account)}`;
    expect((await admin('PUT', path, { 'X-Account-Meta-Label': `${name}!` })).status).toBe(201);
    const head = await admin('HEAD', path);
    expect(head.status).toBe(204);
    expect(head.header('x-account-meta-label')).toBe(`${name}!`.trim());
    expect((await admin('POST', path, { 'X-Account-Meta-Other': '日本' })).status).toBe(204);
    expect((await admin('HEAD', path)).header('x-account-meta-other')).toBe('日本');

    const c = `c ${name}`;
    expect((await admin('PUT', `${path}/${qc(c)}`)).status).toBe(201);
    // Listed before it holds objects: object counts reach the account asynchronously.
    const json = await admin('GET', `${path}?format=json`);
    expect(json.status).toBe(200);
    const rows = json.json() as { name: string; count: number; bytes: number; last_modified: string }[];
    expect(rows.map((r) => [r.name, r.count, r.bytes])).toEqual([[c, 0, 0]]);
    const xml = await admin('GET', `${path}?format=xml`);
    expect(xml.text).toBe(
      `<?xml version="1.0" encoding="UTF-8"?>\n<account name="${xmlAttr(account)}">\n` +
        `<container><name>${xmlText(c)}</name><count>0</count><bytes>0</bytes><last_modified>${rows[0]!.last_modified}</last_modified></container>\n` +
        '</account>',
    );
    expect((await admin('GET', path)).raw).toEqual(Buffer.from(`${c}\n`, 'utf8'));

    expect((await admin('PUT', `${path}/${qc(c)}/${qo(`o ${name}`)}`, {}, 'data')).status).toBe(201);
    expect((await admin('GET', `${path}/${qc(c)}/${qo(`o ${name}`)}`)).text).toBe('data');
    expect(names(await admin('GET', `${path}/${qc(c)}?format=json`))).toEqual([`o ${name}`]);

    expect((await admin('DELETE', `${path}/${qc(c)}/${qo(`o ${name}`)}`)).status).toBe(204);
    expect((await admin('DELETE', `${path}/${qc(c)}`)).status).toBe(204);
    expect((await admin('DELETE', path)).status).toBe(204);
    expect((await admin('HEAD', path)).status).toBe(410);
  });

  it('account listings take non-ASCII prefix, delimiter, marker and end_marker, in every format', async () => {
    const admin = as(adminTok);
    const account = `AUTH_lïst ${++seq}`;
    const containers = ['été-1', 'été/a', 'été/b', '日本', '日本/x', '！', '😀 a', '😀/b', 'a&<b>"'];
    for (const c of containers) expect((await admin('PUT', `/v1/${qc(account)}/${qc(c.replace('/', '|'))}`)).status).toBe(201);
    // Container names cannot hold '/', so '|' stands in as the delimiter here.
    const stored = containers.map((c) => c.replace('/', '|'));
    const list = async (query: string) => names(await admin('GET', `/v1/${qc(account)}?format=json&${query}`));
    expect(await list('')).toEqual(byCodePoint(stored));
    expect(await list(`prefix=${qc('été')}`)).toEqual(['été-1', 'été|a', 'été|b']);
    expect(await list(`delimiter=${qc('|')}`)).toEqual(['a&<b>"', 'été-1', 'subdir:été|', '日本', 'subdir:日本|', '！', '😀 a', 'subdir:😀|']);
    expect(await list(`delimiter=${qc('本')}`)).toEqual(['a&<b>"', 'été-1', 'été|a', 'été|b', 'subdir:日本', '！', '😀 a', '😀|b']);
    expect(await list(`marker=${qc('！')}`)).toEqual(['😀 a', '😀|b']);
    expect(await list(`marker=${qc('été|a')}&end_marker=${qc('😀')}`)).toEqual(['été|b', '日本', '日本|x', '！']);
    expect(await list(`reverse=yes&end_marker=${qc('日本')}&marker=${qc('😀|b')}`)).toEqual(['😀 a', '！', '日本|x']);

    const xml = await admin('GET', `/v1/${qc(account)}?format=xml&delimiter=${qc('|')}&prefix=${qc('été')}`);
    const row = ((await admin('GET', `/v1/${qc(account)}?format=json&prefix=${qc('été-1')}`)).json() as { last_modified: string; count: number; bytes: number }[])[0]!;
    expect(xml.text).toBe(
      `<?xml version="1.0" encoding="UTF-8"?>\n<account name="${xmlAttr(account)}">\n` +
        `<container><name>été-1</name><count>${row.count}</count><bytes>${row.bytes}</bytes><last_modified>${row.last_modified}</last_modified></container>\n` +
        '<subdir name="été|" />\n</account>',
    );
    const amp = await admin('GET', `/v1/${qc(account)}?format=xml&prefix=a`);
    expect(amp.text).toContain('<name>a&amp;&lt;b&gt;"</name>');
    const plain = await admin('GET', `/v1/${qc(account)}?delimiter=${qc('|')}`);
    expect(plain.raw).toEqual(Buffer.from('a&<b>"\nété-1\nété|\n日本\n日本|\n！\n😀 a\n😀|\n', 'utf8'));
  });

  it('a TempAuth user of a non-ASCII account logs in, gets a quoted storage URL, and owns the account', async () => {
    const { token, url } = await login(`${U_ACCOUNT}:${U_OWNER}`, U_OWNER_KEY);
    expect(url).toBe(`${cluster.url}/v1/AUTH_${qc(U_ACCOUNT)}`);
    const base = new URL(url).pathname;
    const me = as(token);
    // The account is created on the first write (account_autocreate).
    expect((await me('PUT', `${base}/${qc('mine ✓')}`)).status).toBe(201);
    expect((await me('PUT', `${base}/${qc('mine ✓')}/${qo('ö/ä')}`, {}, 'ü')).status).toBe(201);
    expect((await me('GET', `${base}/${qc('mine ✓')}/${qo('ö/ä')}`)).text).toBe('ü');
    const xml = await me('GET', `${base}?format=xml`);
    expect(xml.status).toBe(200);
    expect(xml.text).toContain(`<account name="AUTH_${U_ACCOUNT}">\n<container><name>mine ✓</name><count>`);
    // Not the owner of anybody else's account.
    expect((await me('GET', '/v1/AUTH_test')).status).toBe(403);
    // A wrong key or user is 401, never an error.
    expect((await req('GET', '/auth/v1.0', { 'X-Auth-User': `${U_ACCOUNT}:${U_OWNER}`, 'X-Auth-Key': 'secret' })).status).toBe(401);
    const v1 = await req('GET', `/auth/v1/${qc(U_ACCOUNT)}/auth`, { 'X-Storage-User': U_OWNER, 'X-Storage-Pass': U_OWNER_KEY });
    expect(v1.status).toBe(200);
    expect(v1.header('x-storage-url')).toBe(url);
  });
});

// ------------------------------------------------------------------ ACLs

describe('ACLs with non-ASCII user names', () => {
  let member: ReturnType<typeof as>;
  let unicodeOwner: ReturnType<typeof as>;

  beforeAll(async () => {
    member = as((await login(`test:${U_MEMBER}`, U_MEMBER_KEY)).token);
    unicodeOwner = as((await login(`${U_ACCOUNT}:${U_OWNER}`, U_OWNER_KEY)).token);
  });

  it.each([
    ['raw UTF-8', `test:${U_MEMBER}`],
    ['URL-quoted', `test:${qc(U_MEMBER)}`],
  ])('X-Container-Read with the user name as %s grants that user reads only', async (_form, grant) => {
    const c = await container('cacl', { 'X-Container-Read': `other, ${grant}` });
    expect((await owner('PUT', `/v1/AUTH_test/${qc(c)}/${qo('ö')}`, {}, 'read me')).status).toBe(201);
    // Stored as cleaned (items stripped), bytes kept.
    expect((await owner('HEAD', `/v1/AUTH_test/${qc(c)}`)).headerBytes('x-container-read')).toEqual(Buffer.from(`other,${grant}`, 'utf8'));
    expect((await member('GET', `/v1/AUTH_test/${qc(c)}/${qo('ö')}`)).text).toBe('read me');
    expect((await member('GET', `/v1/AUTH_test/${qc(c)}?format=json`)).status).toBe(200);
    expect((await member('PUT', `/v1/AUTH_test/${qc(c)}/${qo('ä')}`, {}, 'no')).status).toBe(403);
    // A user whose name differs only by normalisation is someone else.
    const nfd = await container('cacl-nfd', { 'X-Container-Read': `test:${U_MEMBER.normalize('NFD')}` });
    expect((await member('GET', `/v1/AUTH_test/${qc(nfd)}?format=json`)).status).toBe(403);
  });

  it.each([
    ['raw UTF-8', `test:${U_MEMBER}`],
    ['URL-quoted', `test:${qc(U_MEMBER)}`],
  ])('X-Container-Write with the user name as %s grants that user writes only', async (_form, grant) => {
    const c = await container('cwacl', { 'X-Container-Write': grant });
    const put = await member('PUT', `/v1/AUTH_test/${qc(c)}/${qo('日本 😀')}`, {}, 'written');
    expect(put.status).toBe(201);
    expect((await owner('GET', `/v1/AUTH_test/${qc(c)}/${qo('日本 😀')}`)).text).toBe('written');
    expect((await member('GET', `/v1/AUTH_test/${qc(c)}/${qo('日本 😀')}`)).status).toBe(403);
    expect((await member('DELETE', `/v1/AUTH_test/${qc(c)}/${qo('日本 😀')}`)).status).toBe(204);
  });

  it('X-Account-Access-Control with non-ASCII names (raw UTF-8 or \\u escapes) reads back in canonical \\uXXXX form and grants', async () => {
    const canonical = '{"admin":["\\u00fcn\\u00efc\\u00f8d\\u00e9:j\\u00f6\\u00df"],"read-only":["test:t\\u00ebster\\ud83d\\ude00"]}';
    for (const sent of [
      JSON.stringify({ 'read-only': [`test:${U_MEMBER}`], admin: [`${U_ACCOUNT}:${U_OWNER}`] }),
      canonical.replace('{"admin"', '{ "admin"'),
    ]) {
      const set = await owner('POST', '/v1/AUTH_test', { 'X-Account-Access-Control': sent });
      expect(set.status, set.text).toBe(204);
      const head = await owner('HEAD', '/v1/AUTH_test');
      expect(head.header('x-account-access-control')).toBe(canonical);
      // read-only: account and container listings, object reads; no writes.
      expect((await member('GET', '/v1/AUTH_test?format=json')).status).toBe(200);
      expect((await member('PUT', `/v1/AUTH_test/${qc(`nope ${seq}`)}`)).status).toBe(403);
      // admin: a swift owner of AUTH_test, who sees the ACL.
      const adminHead = await unicodeOwner('HEAD', '/v1/AUTH_test');
      expect(adminHead.status).toBe(204);
      expect(adminHead.header('x-account-access-control')).toBe(canonical);
      const c = `by ${U_OWNER} ${++seq}`;
      expect((await unicodeOwner('PUT', `/v1/AUTH_test/${qc(c)}`)).status).toBe(201);
      expect((await owner('DELETE', `/v1/AUTH_test/${qc(c)}`)).status).toBe(204);
    }
    expect((await owner('POST', '/v1/AUTH_test', { 'X-Account-Access-Control': '{}' })).status).toBe(204);
    expect((await member('GET', '/v1/AUTH_test?format=json')).status).toBe(403);
  });

  it('an invalid account ACL with non-ASCII input is a 400 echoing the input as UTF-8', async () => {
    const res = await owner('POST', '/v1/AUTH_test', { 'X-Account-Access-Control': '{"read-only":"é😀"}' });
    expect(res.status).toBe(400);
    expect(res.text).toBe('X-Account-Access-Control invalid: Value for key "read-only" must be a list\n\nInput: {"read-only":"é😀"}\n');
  });
});

// ------------------------------------------------------------------ bulk, tempurl, symlink

describe('middleware with UTF-8 object names', () => {
  it('bulk delete takes quoted and raw UTF-8 paths and reports failures quoted', async () => {
    const c = await container('bulk');
    const objs = ['é', '日本/語', '😀 x', 'a+b', 'p%25q'];
    for (const o of objs) expect((await owner('PUT', `/v1/AUTH_test/${qc(c)}/${qo(o)}`, {}, 'x')).status).toBe(201);
    const lines = [
      `/${qc(c)}/${qc('é')}`,
      `/${qc(c)}/${qo('日本/語')}`,
      `/${c}/😀 x`, // raw UTF-8
      `/${qc(c)}/${qc('a+b')}`,
      `/${qc(c)}/${qc('p%25q')}`,
      `/${qc(c)}/${qc('missing ✗')}`,
      `/${qc(c)}/%FF`,
    ];
    const res = await owner('POST', '/v1/AUTH_test?bulk-delete', { Accept: 'application/json', 'Content-Type': 'text/plain' }, lines.join('\n'));
    expect(res.status).toBe(200);
    const result = JSON.parse(res.text.trim()) as Record<string, unknown>;
    expect(result).toMatchObject({ 'Number Deleted': 5, 'Number Not Found': 1, 'Response Status': '400 Bad Request' });
    expect(result.Errors).toEqual([[`/${qc(c)}/%FF`, '412 Precondition Failed']]);
    expect(names(await owner('GET', `/v1/AUTH_test/${qc(c)}?format=json`))).toEqual([]);
  });

  it('tempurl signs the decoded UTF-8 path and serves the percent-encoded URL', async () => {
    const key = 'tempurl-key-ü';
    const c = await container('tempurl', { 'X-Container-Meta-Temp-URL-Key': key });
    const o = 'dir/日本 😀 %25 +.txt';
    expect((await owner('PUT', `/v1/AUTH_test/${qc(c)}/${qo(o)}`, {}, 'temp')).status).toBe(201);
    const expires = Math.floor(Date.now() / 1000) + 600;
    const sign = (method: string, path: string) => createHmac('sha256', Buffer.from(key)).update(Buffer.from(`${method}\n${expires}\n${path}`, 'utf8')).digest('hex');
    const url = `/v1/AUTH_test/${qc(c)}/${qo(o)}`;
    const sig = sign('GET', `/v1/AUTH_test/${c}/${o}`);
    const filename = 'résumé "final".txt';
    const get = await req('GET', `${url}?temp_url_sig=${sig}&temp_url_expires=${expires}&filename=${qc(filename)}`);
    expect(get.status, get.text).toBe(200);
    expect(get.text).toBe('temp');
    expect(get.header('content-disposition')).toBe(`attachment; filename="${quote(filename, ' /')}"; filename*=UTF-8''${quote(filename)}`);
    // Signed over the quoted path instead: not valid.
    const wrong = await req('GET', `${url}?temp_url_sig=${sign('GET', url)}&temp_url_expires=${expires}`);
    expect(wrong.status).toBe(401);
    // A prefix-scoped URL with a non-ASCII prefix.
    const psig = sign('GET', `prefix:/v1/AUTH_test/${c}/dir/日本`);
    const pget = await req('GET', `${url}?temp_url_sig=${psig}&temp_url_expires=${expires}&temp_url_prefix=${qc('dir/日本')}`);
    expect(pget.status).toBe(200);
    expect(pget.text).toBe('temp');

    // An account key on a non-ASCII account: the account name is signed as text too.
    const admin = as(adminTok);
    const account = `AUTH_tëmp ${++seq}`;
    expect((await admin('PUT', `/v1/${qc(account)}`, { 'X-Account-Meta-Temp-URL-Key': key })).status).toBe(201);
    expect((await admin('PUT', `/v1/${qc(account)}/${qc('c ✓')}`)).status).toBe(201);
    expect((await admin('PUT', `/v1/${qc(account)}/${qc('c ✓')}/${qo(o)}`, {}, 'account key')).status).toBe(201);
    const asig = sign('GET', `/v1/${account}/c ✓/${o}`);
    const aget = await req('GET', `/v1/${qc(account)}/${qc('c ✓')}/${qo(o)}?temp_url_sig=${asig}&temp_url_expires=${expires}`);
    expect(aget.status, aget.text).toBe(200);
    expect(aget.text).toBe('account key');
    // The same signature does not open another object.
    expect((await req('GET', `/v1/${qc(account)}/${qc('c ✓')}/${qo(`${o}x`)}?temp_url_sig=${asig}&temp_url_expires=${expires}`)).status).toBe(401);
  });

  it('symlinks to UTF-8 targets (percent-encoded or raw X-Symlink-Target) resolve and report the quoted target', async () => {
    const c = await container('sym');
    // A literal "%25" in the name only survives in the percent-encoded form (the header is unquoted).
    for (const [link, target, header] of [
      ['link é', '目標 😀/ü%25', (t: string) => `${qc(c)}/${qo(t)}`],
      ['link 日本', '目標 😀/ü+~', (t: string) => `${c}/${t}`],
    ] as const) {
      expect((await owner('PUT', `/v1/AUTH_test/${qc(c)}/${qo(target)}`, {}, `body of ${target}`)).status).toBe(201);
      const put = await owner('PUT', `/v1/AUTH_test/${qc(c)}/${qo(link)}`, { 'X-Symlink-Target': header(target) });
      expect(put.status, put.text).toBe(201);
      const get = await owner('GET', `/v1/AUTH_test/${qc(c)}/${qo(link)}`);
      expect(get.status).toBe(200);
      expect(get.text).toBe(`body of ${target}`);
      expect(get.header('content-location')).toBe(`/v1/AUTH_test/${qo(`${c}/${target}`)}`);
      const head = await owner('HEAD', `/v1/AUTH_test/${qc(c)}/${qo(link)}?symlink=get`);
      expect(head.status).toBe(200);
      // Stored and shown URL-quoted, as Swift's symlink middleware does.
      expect(head.header('x-symlink-target')).toBe(qo(`${c}/${target}`));
    }
    const listing = (await owner('GET', `/v1/AUTH_test/${qc(c)}?format=json`)).json() as { name: string; symlink_path?: string }[];
    expect(listing.find((e) => e.name === 'link é')?.symlink_path).toBe(`/v1/AUTH_test/${qo(`${c}/目標 😀/ü%25`)}`);
  });
});

// ------------------------------------------------------------------ invalid UTF-8 and NUL

describe('invalid UTF-8 and NUL in paths', () => {
  const BAD = [
    ['0xFF', '%FF'],
    ['lone continuation byte', '%80'],
    ['overlong "/"', '%C0%AF'],
    ['overlong NUL', '%C0%80'],
    ['UTF-16 surrogate', '%ED%A0%80'],
    ['truncated sequence', '%E6%97'],
    ['code point above U+10FFFF', '%F4%90%80%80'],
    ['NUL', '%00'],
  ] as const;

  const WHERE = [
    ['account', (b: string) => `/v1/AUTH_te${b}st`],
    ['container', (b: string) => `/v1/AUTH_test/c${b}`],
    ['object', (b: string) => `/v1/AUTH_test/c/o${b}`],
    ['object after a slash', (b: string) => `/v1/AUTH_test/c/dir/${b}/x`],
  ] as const;

  for (const [label, bad] of BAD) {
    it(`${label} (${bad}) is 412 at every level, for every method, with or without a token`, async () => {
      for (const [level, path] of WHERE) {
        for (const method of ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'COPY']) {
          for (const token of [tok, undefined]) {
            const headers: Record<string, string> = {};
            if (token) headers['X-Auth-Token'] = token;
            if (method === 'COPY') headers.Destination = 'c/o';
            const res = await req(method, path(bad), headers);
            expect(res.status, `${method} ${level} ${label}`).toBe(412);
            expect(res.text).toBe(method === 'HEAD' ? '' : 'Invalid UTF8 or contains NULL');
            // swob keeps the body's length on a HEAD.
            expect(res.header('content-length')).toBe('29');
            expect(res.header('content-type')).toBe('text/html; charset=UTF-8');
          }
        }
      }
    });
  }

  it('invalid UTF-8 reaching the middleware (listing formats, symlink, versions, tempurl, bulk) is refused, never 500', async () => {
    for (const path of [
      '/v1/AUTH_test/c%FF?format=xml',
      '/v1/AUTH_te%FFst?format=json',
      '/v1/AUTH_test/c/o%ED%A0%80?symlink=get',
      '/v1/AUTH_test/c%00/o?multipart-manifest=get',
      '/v1/AUTH_test/c/o%C0%AF?versions',
    ]) {
      const res = await owner('GET', path);
      expect(res.status, path).toBe(412);
      expect(res.text).toBe('Invalid UTF8 or contains NULL');
    }
    // tempurl refuses a signed URL whose path is not UTF-8 (sluice: 401 "Temp URL invalid").
    const tu = await req('GET', '/v1/AUTH_test/c/o%FF?temp_url_sig=0000&temp_url_expires=9999999999');
    expect(tu.status).toBe(401);
    expect(tu.text).toBe('401 Unauthorized: Temp URL invalid\n');
    // bulk checks each item's full path, as Swift does (each one fails with 412).
    const bulk = await owner('POST', '/v1/AUTH_te%FFst?bulk-delete', { Accept: 'application/json' }, '/c/o\n/c%00/o');
    expect(bulk.status).toBe(200);
    expect(JSON.parse(bulk.text.trim())).toMatchObject({
      'Response Status': '400 Bad Request',
      'Number Deleted': 0,
      Errors: [
        ['/c/o', '412 Precondition Failed'],
        ['/c%00/o', '412 Precondition Failed'],
      ],
    });
  });

  it('raw non-ASCII bytes in the request line are taken as their percent-encoded form, as eventlet takes them', async () => {
    // Valid UTF-8 names the same (missing) container as %C3%A9; invalid UTF-8 is Swift's 412.
    for (const [bytes, status, body] of [
      [[0xc3, 0xa9], 404, undefined],
      [[0xff], 412, 'Invalid UTF8 or contains NULL'],
    ] as const) {
      const res = await rawRequest(
        cluster.url,
        Buffer.concat([Buffer.from('GET /v1/AUTH_test/c'), Buffer.from(bytes), Buffer.from(` HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${tok}\r\nConnection: close\r\n\r\n`)]),
      );
      expect(res.status).toBe(status);
      if (body) expect(res.text.slice(res.text.indexOf('\r\n\r\n') + 4)).toBe(body);
    }
  });

  it('COPY, X-Copy-From and X-Symlink-Target naming invalid UTF-8 or NUL are refused, never 500', async () => {
    const c = await container('badref');
    expect((await owner('PUT', `/v1/AUTH_test/${qc(c)}/src`, {}, 'x')).status).toBe(201);
    for (const bad of ['%FF', '%ED%A0%80', '%00']) {
      const copy = await owner('COPY', `/v1/AUTH_test/${qc(c)}/src`, { Destination: `/${qc(c)}/dst${bad}` });
      expect(copy.status, `COPY ${bad}`).toBe(412);
      const xcf = await owner('PUT', `/v1/AUTH_test/${qc(c)}/dst`, { 'X-Copy-From': `/${qc(c)}/src${bad}` });
      expect(xcf.status, `X-Copy-From ${bad}`).toBe(412);
      // Swift's symlink middleware only checks the target's form, so the link is created;
      // following it reaches the proxy's path check.
      const sym = await owner('PUT', `/v1/AUTH_test/${qc(c)}/link`, { 'X-Symlink-Target': `${qc(c)}/t${bad}` });
      expect(sym.status, `X-Symlink-Target ${bad}`).toBe(201);
      const follow = await owner('GET', `/v1/AUTH_test/${qc(c)}/link`);
      expect(follow.status, `GET link to ${bad}`).toBe(412);
      expect(follow.text).toBe('Invalid UTF8 or contains NULL');
      expect((await owner('HEAD', `/v1/AUTH_test/${qc(c)}/link?symlink=get`)).header('x-symlink-target')).toBe(`${qc(c)}/t${bad}`);
    }
    expect(names(await owner('GET', `/v1/AUTH_test/${qc(c)}?format=json`))).toEqual(['link', 'src']);
  });
});
