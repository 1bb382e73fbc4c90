/**
 * staticweb: the HTML it writes against Swift's own _StaticWebContext._listing (Debian's
 * python3-swift under /usr/bin/python3) on generated listings, then through in-process
 * clusters (tempauth, then staticweb, as in Swift's sample pipeline): listings, indexes,
 * redirects to add the slash (url_base), error pages, directory markers, X-Web-Mode, the read
 * ACL's `.r:*` and `.rlistings`, and answers where Swift itself fails with a 500.
 *
 * The cluster cases were first checked one by one against a real Swift 2.30.1 proxy with the
 * same pipeline over the same storage servers (status, headers and body identical, except
 * where the README's Differences table says otherwise).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { disabledListingPage, humanReadable, listingLabel, listingPage, type ListingRow, type WebSettings } from '../../src/middleware/staticweb-listing';
import { parseStaticWebOptions } from '../../src/middleware/staticweb';
import { defaultBody } from '../../src/common/http-status';
import { send, Session } from '../conformance/replayer';
import { call } from '../proxy/helpers';
import { proxyConf } from '../helpers/proxy-conf';
import { PythonOracle } from '../helpers/python-oracle';

const PY = '/usr/bin/python3';
const probe = spawnSync(PY, ['-c', 'import swift.common.middleware.staticweb'], { encoding: 'utf8' });
const haveSwift = probe.status === 0;
if (!haveSwift && process.env.CI) throw new Error(`Swift's staticweb is required in CI: ${probe.stderr?.trim() || `${PY} missing`}`);
const skipReason = haveSwift ? '' : `(skipped: ${PY} cannot import swift.common.middleware.staticweb)`;

/** Swift's _listing on a fake app that answers the listing subrequest with the given rows. */
const ORACLE = `
import json, sys
from swift.common.middleware.staticweb import StaticWeb, _StaticWebContext
from swift.common.swob import Request, str_to_wsgi, wsgi_quote
from swift.common.utils import human_readable

class ListingApp(object):
    body = b''
    def __call__(self, env, start_response):
        start_response('200 OK', [('Content-Type', 'application/json; charset=utf-8')])
        return [self.body]

app = ListingApp()
web = StaticWeb(app, {})
for line in sys.stdin:
    q = json.loads(line)
    try:
        if 'sizes' in q:
            print(json.dumps({'sizes': [human_readable(n) for n in q['sizes']]}))
        else:
            path = str_to_wsgi(q['path'])
            segs = path.split('/', 4)
            ctx = _StaticWebContext(web, segs[1], segs[2], segs[3], segs[4] if len(segs) > 4 else None)
            s = q['settings']
            ctx._index, ctx._error, ctx._listings = s['index'], s['error'], s['listings']
            ctx._listings_label, ctx._listings_css, ctx._dir_type = s['listingsLabel'], s['listingsCss'], s['dirType']
            app.body = json.dumps(q['rows']).encode('utf-8')
            out = {}
            def start_response(status, headers, exc_info=None):
                out['status'] = int(status.split()[0])
            prefix = str_to_wsgi(q['prefix']) if q['prefix'] else None
            body = b''.join(ctx._listing(Request.blank(wsgi_quote(path)).environ, start_response, prefix))
            out['body'] = body.decode('utf-8')
            print(json.dumps(out))
    except Exception as e:
        print(json.dumps({'oracle_error': repr(e)}))
    sys.stdout.flush()
`;

interface ListingCase {
  path: string;
  settings: WebSettings;
  prefix: string;
  rows: ListingRow[];
}

/** What sluice's _listing answers for a case: the same composition staticweb.ts makes. */
function sluiceListing(q: ListingCase): { status: number; body: string } {
  const label = listingLabel(q.path, q.settings);
  if (!/^(true|1|yes|on|t|y)$/i.test(q.settings.listings.trim())) return { status: 404, body: disabledListingPage(label, q.settings, q.prefix) };
  if (q.prefix && q.rows.length === 0) return { status: 404, body: defaultBody(404) };
  return { status: 200, body: listingPage(label, q.settings, q.prefix, q.rows) };
}

// Characters that exercise escaping, quoting and code-point slicing.
const nameChar = fc.constantFrom('a', 'Z', '0', ' ', '&', '<', '>', '"', "'", '%', '#', '?', '+', '~', '.', '-', 'é', 'ü', '中', '😀', '\u00a0');
const namePart = fc.array(nameChar, { minLength: 1, maxLength: 6 }).map((cs) => cs.join(''));
const contentType = fc.constantFrom('text/plain', 'Text/HTML', 'application/octet-stream', 'image/svg+xml', 'a/b/c', 'x<y>/z&w', 'application/json; charset=utf-8', '');
const date = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
  .chain((d) => fc.constantFrom(d.toISOString().replace('Z', '').replace(/\.\d+$/, ''), d.toISOString().replace('Z', '') + '450'));
const size = fc.oneof(fc.nat({ max: 5000 }), fc.constantFrom(1024, 1536, 2560, 3584, 1048575, 1048576, 1572864, 2621440, 1073741824, 5368709122), fc.nat());

const listingCase: fc.Arbitrary<ListingCase> = fc
  .record({
    dirs: fc.array(namePart, { maxLength: 3 }),
    settings: fc.record({
      index: fc.constantFrom('', 'index.html'),
      error: fc.constant(''),
      listings: fc.constantFrom('true', 'True', 'yes', '1', 'false', 'off'),
      listingsLabel: fc.constantFrom('', 'example.com', 'a <b> & "c"'),
      listingsCss: fc.constantFrom('', 'listing.css', 'css/a b.css', '/abs/x.css', 'http://cdn.example.com/s.css', 'https://cdn.example.com/ü.css'),
      dirType: fc.constant(''),
    }),
    subdirs: fc.uniqueArray(namePart, { maxLength: 4 }),
    objects: fc.array(fc.record({ name: namePart, bytes: size, content_type: contentType, last_modified: date }), { maxLength: 5 }),
  })
  .map(({ dirs, settings, subdirs, objects }) => {
    const prefix = dirs.map((d) => `${d}/`).join('');
    const rows: ListingRow[] = [...subdirs.map((s) => ({ subdir: `${prefix}${s}/` })), ...objects.map((o) => ({ ...o, name: prefix + o.name }))];
    return { path: `/v1/AUTH_test/site/${prefix}`, settings, prefix, rows };
  });

describe('the HTML, against Swift\'s staticweb', () => {
  let oracle: PythonOracle | undefined;
  let dir: string | undefined;
  beforeAll(() => {
    if (!haveSwift) return;
    dir = mkdtempSync(join(tmpdir(), 'sluice-staticweb-'));
    writeFileSync(join(dir, 'staticweb_oracle.py'), ORACLE);
    oracle = new PythonOracle(PY, join(dir, 'staticweb_oracle.py'));
  });
  afterAll(() => {
    oracle?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!haveSwift)(`human_readable sizes ${skipReason}`, async () => {
    const sizes = [0, 1, 1023, 1024, 1535, 1536, 1537, 2560, 3584, 1048575, 1048576, 1572864, 2621440, 1073741824, 1099511627776, 5368709122, 2 ** 53];
    for (let i = 0; i < 200; i++) sizes.push(Math.floor(Math.random() * 2 ** (i % 50)));
    const answer = await oracle!.ask<{ sizes: string[] }>({ sizes });
    expect(sizes.map(humanReadable)).toEqual(answer.sizes);
  });

  it.skipIf(!haveSwift)(`listings and "Web Listing Disabled" pages, byte for byte ${skipReason}`, async () => {
    await fc.assert(
      fc.asyncProperty(listingCase, async (q) => {
        const swift = await oracle!.ask<{ status: number; body: string }>(q);
        expect(sluiceListing(q)).toEqual(swift);
      }),
      { numRuns: 200, seed: 20261203 },
    );
  });
});

describe('url_base', () => {
  it('keeps the scheme and host only, as urlparse splits them', () => {
    expect(parseStaticWebOptions({ url_base: 'https://www.example.com:8443/ignored?q' })).toEqual({ urlScheme: 'https', urlHost: 'www.example.com:8443', ignoredUrlBase: undefined });
    expect(parseStaticWebOptions({ url_base: '//cdn.example.com' })).toEqual({ urlScheme: undefined, urlHost: 'cdn.example.com', ignoredUrlBase: undefined });
    expect(parseStaticWebOptions({ url_base: 'HTTP:' })).toEqual({ urlScheme: 'http', urlHost: undefined, ignoredUrlBase: undefined });
    expect(parseStaticWebOptions({ url_base: 'example.com' })).toEqual({ urlScheme: undefined, urlHost: undefined, ignoredUrlBase: 'example.com' });
    expect(parseStaticWebOptions({})).toEqual({ urlScheme: undefined, urlHost: undefined, ignoredUrlBase: undefined });
  });
});

// ---------------------------------------------------------------------------------------------
// Through a cluster

const PIPELINE = ['catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', 'cache', 'listing_formats', 'tempauth', 'staticweb', 'copy', 'proxy-logging'];
const TEMPAUTH = 'user_test_tester = testing .admin\nuser_test2_tester2 = testing2\n';

let cluster: TestCluster;
let owner: string;
let other: string;

const anon = (method: string, path: string, headers: Record<string, string> = {}) => send(cluster.url, method, path, headers);
const as = (token: string, method: string, path: string, headers: Record<string, string> = {}, body?: string) => send(cluster.url, method, path, { 'X-Auth-Token': token, ...headers }, body);
const ok = async (method: string, path: string, headers: Record<string, string> = {}, body?: string) => {
  const res = await as(owner, method, path, headers, body);
  expect(res.status, `${method} ${path}: ${res.body.toString()}`).toBeLessThan(300);
};
const A = '/v1/AUTH_test';

beforeAll(async () => {
  cluster = await startCluster({ proxyConfig: proxyConf({ pipeline: PIPELINE, sections: { tempauth: TEMPAUTH } }) });
  const session = new Session(cluster.url);
  owner = (await session.login('test:tester')).token;
  other = (await session.login('test2:tester2')).token;

  await ok('PUT', `${A}/web`, { 'X-Container-Read': '.r:*,.rlistings', 'X-Container-Meta-Web-Listings': 'true' });
  await ok('PUT', `${A}/web/a.txt`, { 'Content-Type': 'text/plain' }, 'x'.repeat(1536));
  await ok('PUT', `${A}/web/x%26%3Cy%3E%22.txt`, { 'Content-Type': 'Text/Plain' }, 'z');
  await ok('PUT', `${A}/web/dir/b.html`, { 'Content-Type': 'text/html' }, '<b>b</b>');
  await ok('PUT', `${A}/web/dir/sub/c`, { 'Content-Type': 'application/octet-stream' }, 'c'.repeat(2560));
  await ok('PUT', `${A}/web/%C3%A9t%C3%A9/%F0%9F%98%80.txt`, { 'Content-Type': 'text/plain' }, 'é');
  await ok('PUT', `${A}/web/marker`, { 'Content-Type': 'application/directory' });
  await ok('PUT', `${A}/web/marker2`, { 'Content-Type': 'application/directory' }, 'ab');

  await ok('PUT', `${A}/site`, { 'X-Container-Read': '.r:*,.rlistings', 'X-Container-Meta-Web-Index': 'index.html', 'X-Container-Meta-Web-Error': 'error.html' });
  await ok('PUT', `${A}/site/index.html`, { 'Content-Type': 'text/html' }, '<h1>root</h1>');
  await ok('PUT', `${A}/site/404error.html`, { 'Content-Type': 'text/html' }, '<h1>custom 404</h1>');
  await ok('PUT', `${A}/site/401error.html`, { 'Content-Type': 'text/html' }, '<h1>custom 401</h1>');
  await ok('PUT', `${A}/site/docs/index.html`, { 'Content-Type': 'text/html' }, 'docs index');
  await ok('PUT', `${A}/site/noindex/x.txt`, { 'Content-Type': 'text/plain' }, 'x');
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('listings', () => {
  it.skipIf(!haveSwift)(`renders the container and its pseudo-directories as Swift does ${skipReason}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-staticweb-'));
    writeFileSync(join(dir, 'oracle.py'), ORACLE);
    const oracle = new PythonOracle(PY, join(dir, 'oracle.py'));
    try {
      for (const [path, prefix] of [[`${A}/web/`, ''], [`${A}/web/dir/`, 'dir/'], [`${A}/web/dir/sub/`, 'dir/sub/'], [`${A}/web/%C3%A9t%C3%A9/`, 'été/']] as const) {
        const json = await as(owner, 'GET', `${A}/web?format=json&delimiter=/&prefix=${encodeURIComponent(prefix)}`);
        const rows = JSON.parse(json.body.toString()) as ListingRow[];
        const settings: WebSettings = { index: '', error: '', listings: 'true', listingsLabel: '', listingsCss: '', dirType: '' };
        const swift = await oracle.ask<{ status: number; body: string }>({ path: decodeURIComponent(path), settings, prefix, rows });
        const res = await anon('GET', path);
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('text/html; charset=UTF-8');
        expect(res.body.toString()).toBe(swift.body);
        const head = await anon('HEAD', path);
        expect(head.status).toBe(200);
        expect(head.headers['content-length']).toBe(String(Buffer.byteLength(swift.body)));
        expect(head.body.length).toBe(0);
      }
    } finally {
      oracle.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists subdirectories first, with sizes, dates and escaped, quoted names', async () => {
    const res = await anon('GET', `${A}/web/`);
    expect(res.status).toBe(200);
    const body = res.body.toString();
    expect(body).toContain('<title>Listing of /v1/AUTH_test/web/</title>');
    expect(body.indexOf('<a href="dir/">dir/</a>')).toBeLessThan(body.indexOf('<a href="a.txt">a.txt</a>'));
    expect(body).toContain('<tr class="item type-text type-plain">\n    <td class="colname"><a href="a.txt">a.txt</a></td>\n    <td class="colsize">2Ki</td>');
    expect(body).toContain('<a href="x%26%3Cy%3E%22.txt">x&amp;&lt;y&gt;&quot;.txt</a>');
    expect(body).toMatch(/<td class="coldate">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d<\/td>/);
    expect(body).not.toContain('id="parent"');
    const sub = (await anon('GET', `${A}/web/dir/`)).body.toString();
    expect(sub).toContain('<a href="../">../</a>');
    expect(sub).toContain('<a href="sub/">sub/</a>');
    expect(sub).toContain('<a href="b.html">b.html</a>');
  });

  it('redirects a directory without its slash, on the request\'s host', async () => {
    for (const [path, to] of [[`${A}/web`, `${A}/web/`], [`${A}/web/dir`, `${A}/web/dir/`], [`${A}/web/%C3%A9t%C3%A9`, `${A}/web/%C3%A9t%C3%A9/`]]) {
      const res = await anon('GET', path!);
      expect(res.status).toBe(301);
      expect(res.headers['location']).toBe(`${cluster.url}${to}`);
      expect(res.body.toString()).toBe(defaultBody(301));
      const head = await anon('HEAD', path!);
      expect([head.status, head.headers['location'], head.body.length]).toEqual([301, `${cluster.url}${to}`, 0]);
    }
    const onHost = await call(cluster.url, 'GET', `${A}/web/dir`, { host: 'www.example.com:80' });
    expect(onHost.headers['location']).toBe(`http://www.example.com${A}/web/dir/`);
  });

  it('treats an empty application/directory object as a directory, and a non-empty one as an object', async () => {
    expect((await anon('GET', `${A}/web/marker`)).status).toBe(404);
    const marker2 = await anon('GET', `${A}/web/marker2`);
    expect([marker2.status, marker2.body.toString()]).toEqual([200, 'ab']);
    // A missing pseudo-directory, with or without its slash.
    expect((await anon('GET', `${A}/web/nope`)).status).toBe(404);
    expect((await anon('GET', `${A}/web/nope/`)).body.toString()).toBe(defaultBody(404));
  });

  it('serves objects as they are', async () => {
    const res = await anon('GET', `${A}/web/a.txt`);
    expect([res.status, res.headers['content-type'], res.body.length]).toEqual([200, 'text/plain', 1536]);
  });
});

describe('index and error pages', () => {
  it('serves the index for the container and its directories', async () => {
    const root = await anon('GET', `${A}/site/`);
    expect([root.status, root.headers['content-type'], root.body.toString()]).toEqual([200, 'text/html', '<h1>root</h1>']);
    expect((await anon('GET', `${A}/site/docs/`)).body.toString()).toBe('docs index');
    const redirect = await anon('GET', `${A}/site/docs`);
    expect([redirect.status, redirect.headers['location']]).toEqual([301, `${cluster.url}${A}/site/docs/`]);
    const head = await anon('HEAD', `${A}/site/docs/`);
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, '10', 0]);
    const ranged = await anon('GET', `${A}/site/docs/`, { Range: 'bytes=0-3' });
    expect([ranged.status, ranged.body.toString()]).toEqual([206, 'docs']);
  });

  it('answers with <status><error> where a page is missing, keeping the status', async () => {
    for (const path of [`${A}/site/missing`, `${A}/site/missing/`, `${A}/site/noindex/`]) {
      const res = await anon('GET', path);
      expect([res.status, res.headers['content-type'], res.body.toString()], path).toEqual([404, 'text/html', '<h1>custom 404</h1>']);
      expect(res.headers['etag']).toBe('d187bafa1ad6d95c7bcf3f4cd3751d25');
    }
    // A name with something below it is a directory: redirected, not missing.
    expect((await anon('GET', `${A}/site/noindex`)).status).toBe(301);
  });

  it('HEAD with an error page: the error page\'s headers, no body (Swift answers 500)', async () => {
    const res = await anon('HEAD', `${A}/site/missing`);
    expect([res.status, res.headers['content-length'], res.headers['content-type'], res.body.length]).toEqual([404, '19', 'text/html', 0]);
  });

  it('a listing the read ACL does not allow (.r:* without .rlistings) gets the 401 page', async () => {
    await ok('POST', `${A}/site`, { 'X-Container-Read': '.r:*', 'X-Container-Meta-Web-Listings': 'true', 'X-Remove-Container-Meta-Web-Index': 'x' });
    try {
      for (const path of [`${A}/site/`, `${A}/site/noindex/`]) {
        const res = await anon('GET', path);
        expect([res.status, res.body.toString()], path).toEqual([401, '<h1>custom 401</h1>']);
      }
    } finally {
      await ok('POST', `${A}/site`, { 'X-Container-Read': '.r:*,.rlistings', 'X-Remove-Container-Meta-Web-Listings': 'x', 'X-Container-Meta-Web-Index': 'index.html' });
    }
  });

  it('a Range the index cannot satisfy is 416 (Swift answers 500)', async () => {
    const res = await anon('GET', `${A}/site/docs/`, { Range: 'bytes=100-200' });
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe('bytes */10');
  });
});

describe('listings turned off', () => {
  it('answers "Web Listing Disabled", naming the missing index, with the style sheet', async () => {
    await ok('PUT', `${A}/off`, { 'X-Container-Read': '.r:*,.rlistings', 'X-Container-Meta-Web-Listings': 'false', 'X-Container-Meta-Web-Listings-CSS': 'l.css', 'X-Container-Meta-Web-Index': 'i.html' });
    await ok('PUT', `${A}/off/d/x`, {}, '1');
    const settings: WebSettings = { index: 'i.html', error: '', listings: 'false', listingsLabel: '', listingsCss: 'l.css', dirType: '' };
    const root = await anon('GET', `${A}/off/`);
    expect([root.status, root.headers['content-type']]).toEqual([404, 'text/html; charset=UTF-8']);
    expect(root.body.toString()).toBe(disabledListingPage(`${A}/off/`, settings, ''));
    expect(root.body.toString()).toContain('<b>X-Container-Meta-Web-Index: i.html</b>');
    const sub = await anon('GET', `${A}/off/d/`);
    expect(sub.status).toBe(404);
    expect(sub.body.toString()).toContain('href="../l.css"');
  });
});

describe('who gets the web site', () => {
  it('a private container: 401 with the account realm, for the container and its objects', async () => {
    await ok('PUT', `${A}/priv`, { 'X-Container-Meta-Web-Listings': 'true' });
    for (const path of [`${A}/priv`, `${A}/priv/`, `${A}/priv/x/`]) {
      const res = await anon('GET', path);
      expect([res.status, res.headers['www-authenticate']], path).toEqual([401, 'Swift realm="AUTH_test"']);
    }
  });

  it('authenticated users get the plain API unless they send X-Web-Mode: true', async () => {
    const plain = await as(owner, 'GET', `${A}/web/`);
    expect([plain.status, plain.headers['content-type']]).toEqual([200, 'text/plain; charset=utf-8']);
    const web = await as(owner, 'GET', `${A}/web/`, { 'X-Web-Mode': 'true' });
    expect([web.status, web.headers['content-type']]).toEqual([200, 'text/html; charset=UTF-8']);
    // Another account's user: the container's read ACL decides (.r:* does not cover a token, .rlistings does for listings).
    expect((await as(other, 'GET', `${A}/web/`, { 'X-Web-Mode': 'yes' })).status).toBe(200);
    expect((await as(other, 'GET', `${A}/priv/`, { 'X-Web-Mode': 'yes' })).status).toBe(403);
  });

  it('X-Web-Mode on a container without web settings: 404; without it, the API', async () => {
    await ok('PUT', `${A}/plain`, { 'X-Container-Read': '.r:*,.rlistings' });
    await ok('PUT', `${A}/plain/o`, {}, '1');
    expect((await anon('GET', `${A}/plain/`, { 'X-Web-Mode': 'true' })).status).toBe(404);
    const api = await anon('GET', `${A}/plain/`);
    expect([api.status, api.body.toString()]).toEqual([200, 'o\n']);
  });

  it('leaves other methods, bad paths and /info alone', async () => {
    expect((await anon('POST', `${A}/web/`)).status).toBe(401);
    expect((await anon('GET', `${A}/web/%ff/`)).status).toBe(412);
    const info = JSON.parse((await anon('GET', '/info')).body.toString()) as Record<string, unknown>;
    expect(info['staticweb']).toEqual({});
  });
});

describe('url_base in a cluster', () => {
  it('redirects to url_base\'s scheme and host', async () => {
    const c2 = await startCluster({ proxyConfig: proxyConf({ pipeline: PIPELINE, sections: { tempauth: TEMPAUTH, staticweb: 'url_base = https://www.example.com/ignored' } }) });
    try {
      const tok = (await new Session(c2.url).login('test:tester')).token;
      expect((await send(c2.url, 'PUT', `${A}/w`, { 'X-Auth-Token': tok, 'X-Container-Read': '.r:*,.rlistings', 'X-Container-Meta-Web-Index': 'index.html' })).status).toBe(201);
      const res = await send(c2.url, 'GET', `${A}/w`, {});
      expect([res.status, res.headers['location']]).toEqual([301, `https://www.example.com${A}/w/`]);
    } finally {
      await c2.stop();
    }
  }, 30_000);
});
