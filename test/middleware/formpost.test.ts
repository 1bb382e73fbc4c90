/**
 * formpost through a whole cluster (before auth, as in Swift's sample pipeline): forms signed
 * with account and container keys in each digest and form `allowed_digests` permits, files
 * streamed to `<path>[/]<filename>`, redirect and plain answers with Swift's bodies, the
 * limits (max_file_size, max_file_count, expires), x_delete_at/x_delete_after, per-form and
 * per-file content types, fields after a file, malformed forms, and the /info section.
 */
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { parseContentDisposition } from '../../src/middleware/formpost';
import { MultipartReader, parseHeaderLines } from '../../src/middleware/multipart-mime';
import { Session } from '../conformance/replayer';
import { proxyConf } from '../helpers/proxy-conf';
import { call, uniq, type Resp } from '../proxy/helpers';

const PIPELINE = ['catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', 'cache', 'formpost', 'tempauth', 'proxy-logging'];
const ACCOUNT_KEY = 'form-account-key';
const BOUNDARY = '----WebKitFormBoundaryx8bsf2ZkpK3Sqbq9';

interface FileSpec {
  filename: string;
  content: string | Buffer;
  contentType?: string;
  extraHeaders?: string;
}

/** A browser's multipart/form-data body: the fields, then the files, then more fields. */
function form(fields: [string, string][], files: FileSpec[], after: [string, string][] = [], boundary = BOUNDARY): Buffer {
  const out: Buffer[] = [];
  const field = ([name, value]: [string, string]) => out.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  fields.forEach(field);
  files.forEach((f, i) => {
    const ct = f.contentType === undefined ? '' : `Content-Type: ${f.contentType}\r\n`;
    out.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file${i}"; filename="${f.filename}"\r\n${ct}${f.extraHeaders ?? ''}\r\n`));
    out.push(Buffer.from(f.content));
    out.push(Buffer.from('\r\n'));
  });
  after.forEach(field);
  out.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(out);
}

interface Signed {
  path: string;
  redirect?: string;
  maxFileSize?: number | string;
  maxFileCount?: number | string;
  expires?: number | string;
  key?: string;
  digest?: 'sha1' | 'sha256' | 'sha512';
  encoding?: 'hex' | 'base64' | 'base64url';
}

/** The fields of a signed form, as swift-form-signature makes them. */
function signedFields(s: Signed): [string, string][] {
  const redirect = s.redirect ?? '';
  const maxFileSize = String(s.maxFileSize ?? 1024);
  const maxFileCount = String(s.maxFileCount ?? 10);
  const expires = String(s.expires ?? Math.floor(Date.now() / 1000) + 600);
  const digest = s.digest ?? 'sha256';
  const mac = createHmac(digest, s.key ?? ACCOUNT_KEY).update(`${s.path}\n${redirect}\n${maxFileSize}\n${maxFileCount}\n${expires}`);
  const encoding = s.encoding ?? 'hex';
  const signature = encoding === 'hex' ? mac.digest('hex') : `${digest}:${mac.digest(encoding)}`;
  const fields: [string, string][] = [];
  if (s.redirect !== undefined) fields.push(['redirect', redirect]);
  fields.push(['max_file_size', maxFileSize], ['max_file_count', maxFileCount], ['expires', expires], ['signature', signature]);
  return fields;
}

const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');

describe('formpost', () => {
  let cl: TestCluster;
  let tok: string;
  const authed = (method: string, path: string, headers: Record<string, string> = {}) => call(cl.url, method, path, { 'X-Auth-Token': tok, ...headers });
  const post = (path: string, body: Buffer | Readable, headers: Record<string, string> = {}): Promise<Resp> =>
    call(cl.url, 'POST', path, { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, ...(Buffer.isBuffer(body) ? { 'Content-Length': String(body.length) } : {}), ...headers }, { body });

  async function container(headers: Record<string, string> = {}): Promise<string> {
    const path = `/v1/AUTH_test/${uniq('fp')}`;
    expect((await authed('PUT', path, headers)).status).toBe(201);
    return path;
  }

  beforeAll(async () => {
    cl = await startCluster({ proxyConfig: proxyConf({ pipeline: PIPELINE, sections: { tempauth: 'dev_users = true', formpost: 'allowed_digests = sha256 SHA512 md5' } }) });
    tok = (await new Session(cl.url).login('test:tester')).token;
    expect((await authed('POST', '/v1/AUTH_test', { 'X-Account-Meta-Temp-URL-Key': ACCOUNT_KEY })).status).toBe(204);
  }, 60_000);
  afterAll(async () => {
    await cl?.stop();
  });

  it('registers its /info section with the digests allowed', async () => {
    expect((await call(cl.url, 'GET', '/info')).text).toContain('"formpost": {"allowed_digests": ["sha256", "sha512"]}');
  });

  it('stores each file under the form path and answers with the last status line', async () => {
    const c = await container();
    const res = await post(c, form(signedFields({ path: c }), [{ filename: 'a.txt', content: 'alpha' }, { filename: 'b.html', content: 'beta', contentType: 'text/x-beta' }]), { 'User-Agent': 'browser' });
    expect([res.status, res.text, res.headers['content-type'], res.headers['content-length']]).toEqual([201, '201 Created', 'text/plain', '11']);
    const a = await authed('GET', `${c}/a.txt`);
    expect([a.status, a.text, a.headers['content-type'], a.headers.etag]).toEqual([200, 'alpha', 'text/plain', md5('alpha')]);
    const b = await authed('GET', `${c}/b.html`);
    expect([b.text, b.headers['content-type']]).toEqual(['beta', 'text/x-beta']);
  });

  it('appends names to a prefix, and adds the slash only after a container', async () => {
    const c = await container();
    const prefix = `${c}/up_`;
    expect((await post(prefix, form(signedFields({ path: prefix }), [{ filename: 'x', content: '1' }]))).status).toBe(201);
    expect((await authed('GET', `${c}/up_x`)).text).toBe('1');
    const slash = `${c}/`;
    expect((await post(slash, form(signedFields({ path: slash }), [{ filename: 'y', content: '2' }]))).status).toBe(201);
    expect((await authed('GET', `${c}/y`)).text).toBe('2');
    const utf8 = `${c}/d%C3%A9j%C3%A0/`;
    expect((await post(utf8, form(signedFields({ path: `${c}/déjà/` }), [{ filename: 'ünï.txt', content: '3' }]))).status).toBe(201);
    expect((await authed('GET', `${c}/d%C3%A9j%C3%A0/%C3%BCn%C3%AF.txt`)).text).toBe('3');
  });

  it('redirects with status and message', async () => {
    const c = await container();
    const ok = await post(c, form(signedFields({ path: c, redirect: 'https://app.example/done' }), [{ filename: 'r', content: 'r' }]));
    const location = 'https://app.example/done?status=201&message=';
    // Swift sends this page without a Content-Type; sluice's HTTP layer adds its default one.
    expect([ok.status, ok.headers.location]).toEqual([303, location]);
    expect(ok.text).toBe(`<html><body><p><a href="${location}">Click to continue...</a></p></body></html>`);
    expect(ok.headers['content-length']).toBe(String(ok.raw.length));
    const tooMany = await post(c, form(signedFields({ path: c, redirect: 'https://app.example/?x=1', maxFileCount: 1 }), [{ filename: 'r1', content: '1' }, { filename: 'r2', content: '2' }]));
    expect([tooMany.status, tooMany.headers.location]).toEqual([303, 'https://app.example/?x=1&status=400&message=max%20file%20count%20exceeded']);
  });

  it('stops at max_file_count, keeping the files before', async () => {
    const c = await container();
    const res = await post(c, form(signedFields({ path: c, maxFileCount: 2 }), ['1', '2', '3'].map((n) => ({ filename: `f${n}`, content: n }))));
    expect([res.status, res.text]).toEqual([400, '400 Bad Request\r\nFormPost: Max File Count Exceeded']);
    expect((await authed('GET', `${c}/f2`)).status).toBe(200);
    expect((await authed('GET', `${c}/f3`)).status).toBe(404);
  });

  it('refuses a file over max_file_size and stores nothing of it', async () => {
    const c = await container();
    const res = await post(c, form(signedFields({ path: c, maxFileSize: 10 }), [{ filename: 'big', content: 'x'.repeat(11) }]));
    expect([res.status, res.text, res.headers['content-type']]).toEqual([400, 'FormPost: max_file_size exceeded', 'text/plain']);
    expect((await authed('GET', `${c}/big`)).status).toBe(404);
    // Exactly the limit, and an empty file under a limit of 0, are fine.
    expect((await post(c, form(signedFields({ path: c, maxFileSize: 10 }), [{ filename: 'ten', content: 'x'.repeat(10) }]))).status).toBe(201);
    expect((await post(c, form(signedFields({ path: c, maxFileSize: 0 }), [{ filename: 'empty', content: '' }]))).status).toBe(201);
    expect((await authed('HEAD', `${c}/empty`)).headers['content-length']).toBe('0');
  });

  it('streams a large file through', async () => {
    const c = await container();
    const big = Buffer.alloc(5 * 1024 * 1024 + 7, 'abcdefghij');
    const body = form(signedFields({ path: c, maxFileSize: big.length }), [{ filename: 'large.bin', content: big }]);
    // Sent in small pieces, chunked, as a slow browser would.
    const pieces = Array.from({ length: Math.ceil(body.length / 65_000) }, (_, i) => body.subarray(i * 65_000, (i + 1) * 65_000));
    const res = await post(c, Readable.from(pieces));
    expect(res.status).toBe(201);
    const head = await authed('HEAD', `${c}/large.bin`);
    expect([head.headers['content-length'], head.headers.etag]).toEqual([String(big.length), md5(big)]);
  }, 60_000);

  it('refuses expired forms and wrong or missing signatures with 401', async () => {
    const c = await container();
    const file = [{ filename: 'n', content: 'n' }];
    const expired = await post(c, form(signedFields({ path: c, expires: Math.floor(Date.now() / 1000) - 1 }), file));
    expect([expired.status, expired.text, expired.headers['www-authenticate'], expired.headers['content-type']]).toEqual([
      401,
      'FormPost: Form Expired',
      'Swift realm="unknown"',
      'text/html; charset=UTF-8',
    ]);
    const wrongKey = await post(c, form(signedFields({ path: c, key: 'other' }), file));
    expect([wrongKey.status, wrongKey.text]).toEqual([401, 'FormPost: Invalid Signature']);
    const otherPath = await post(c, form(signedFields({ path: `${c}x` }), file));
    expect(otherPath.status).toBe(401);
    const sha1 = await post(c, form(signedFields({ path: c, digest: 'sha1' }), file));
    expect([sha1.status, sha1.text]).toEqual([401, 'FormPost: Invalid Signature']);
    const none = await post(c, form(signedFields({ path: c }).filter(([n]) => n !== 'signature'), file));
    expect(none.status).toBe(401);
    // The signature must come before the file it signs.
    const fields = signedFields({ path: c });
    const late = await post(c, form(fields.filter(([n]) => n !== 'signature'), file, fields.filter(([n]) => n === 'signature')));
    expect(late.status).toBe(401);
    expect((await authed('GET', `${c}/n`)).status).toBe(404);
  });

  it('accepts sha256 and sha512, hex and base64 (standard or url-safe)', async () => {
    const c = await container();
    const variants: Pick<Signed, 'digest' | 'encoding'>[] = [
      { digest: 'sha256', encoding: 'hex' },
      { digest: 'sha512', encoding: 'hex' },
      { digest: 'sha256', encoding: 'base64' },
      { digest: 'sha512', encoding: 'base64url' },
    ];
    for (const [i, v] of variants.entries()) {
      const res = await post(c, form(signedFields({ path: c, ...v }), [{ filename: `v${i}`, content: String(i) }]));
      expect(res.status, JSON.stringify(v)).toBe(201);
    }
  });

  it("accepts a container's key for that container only", async () => {
    const c = await container({ 'X-Container-Meta-Temp-URL-Key-2': 'ckey' });
    const other = await container();
    expect((await post(c, form(signedFields({ path: c, key: 'ckey' }), [{ filename: 'k', content: 'k' }]))).status).toBe(201);
    expect((await post(other, form(signedFields({ path: other, key: 'ckey' }), [{ filename: 'k', content: 'k' }]))).status).toBe(401);
  });

  it('passes x_delete_after, x_delete_at, content-type and content-encoding on', async () => {
    const c = await container();
    const fields: [string, string][] = [...signedFields({ path: c }), ['x_delete_after', '3600'], ['content-type', 'text/x-form'], ['content-encoding', 'gzip']];
    expect((await post(c, form(fields, [{ filename: 'd', content: 'd', contentType: 'text/ignored' }]))).status).toBe(201);
    const head = await authed('HEAD', `${c}/d`);
    expect(Number(head.headers['x-delete-at']) - Date.now() / 1000).toBeGreaterThan(3500);
    expect([head.headers['content-type'], head.headers['content-encoding']]).toEqual(['text/x-form', 'gzip']);
    const badAt = await post(c, form([...signedFields({ path: c }), ['x_delete_at', 'soon']], [{ filename: 'e', content: 'e' }]));
    expect([badAt.status, badAt.text]).toEqual([400, 'FormPost: x_delete_at not an integer: Unix timestamp required.']);
    const badAfter = await post(c, form([...signedFields({ path: c }), ['x_delete_after', '1.5']], [{ filename: 'e', content: 'e' }]));
    expect([badAfter.status, badAfter.text]).toEqual([400, 'FormPost: x_delete_after not an integer: Number of seconds required.']);
    // The object server's own refusal is the form's answer.
    const past = await post(c, form([...signedFields({ path: c }), ['x_delete_at', '1']], [{ filename: 'e', content: 'e' }]));
    expect([past.status, past.text]).toEqual([400, '400 Bad Request']);
  });

  it('answers malformed forms as Swift', async () => {
    const c = await container();
    const noFiles = await post(c, form(signedFields({ path: c }), []));
    expect([noFiles.status, noFiles.text]).toEqual([400, '400 Bad Request\r\nFormPost: No Files To Process']);
    const badStart = await post(c, Buffer.from('garbage\r\n'));
    expect([badStart.status, badStart.text, badStart.headers['content-type']]).toEqual([400, 'FormPost: invalid starting boundary', 'text/plain']);
    const badCount = await post(c, form([...signedFields({ path: c }).filter(([n]) => n !== 'max_file_count'), ['max_file_count', 'ten']], [{ filename: 'z', content: 'z' }]));
    expect([badCount.status, badCount.text]).toEqual([400, 'FormPost: max_file_count not an integer']);
    const badSize = await post(c, form([...signedFields({ path: c }), ['max_file_size', 'big']], [{ filename: 'z', content: 'z' }]));
    expect([badSize.status, badSize.text]).toEqual([400, 'FormPost: max_file_size not an integer']);
    const badExpires = await post(c, form([...signedFields({ path: c }), ['expires', 'never']], [{ filename: 'z', content: 'z' }]));
    expect([badExpires.status, badExpires.text]).toEqual([400, 'FormPost: expired not an integer']);
    // Leading blank lines and a body cut short (no closing boundary) are read as Swift reads them.
    const body = form(signedFields({ path: c }), [{ filename: 'cut', content: 'whole' }]);
    const cut = Buffer.concat([Buffer.from('\r\n\r\n'), body.subarray(0, body.length - `\r\n--${BOUNDARY}--\r\n`.length)]);
    expect((await post(c, cut)).status).toBe(201);
    expect((await authed('GET', `${c}/cut`)).text).toBe('whole');
  });

  it('answers for a missing container with the PUT status', async () => {
    const c = `/v1/AUTH_test/${uniq('missing')}`;
    const res = await post(c, form(signedFields({ path: c }), [{ filename: 'm', content: 'm' }]));
    expect([res.status, res.text]).toEqual([404, '404 Not Found']);
  });

  it('leaves other requests to the pipeline', async () => {
    const c = await container();
    // Not multipart/form-data, or no boundary: an ordinary (unauthenticated) POST.
    expect((await call(cl.url, 'POST', `${c}/o`, { 'Content-Type': 'text/plain' })).status).toBe(401);
    expect((await call(cl.url, 'POST', `${c}/o`, { 'Content-Type': 'multipart/form-data' })).status).toBe(401);
    expect((await call(cl.url, 'PUT', c, { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` })).status).toBe(401);
  });
});

describe('form parsing helpers', () => {
  /** Every part's headers and body, reading the body in `readSize` steps. */
  async function parts(chunks: Buffer[], readSize: number): Promise<[string, string][]> {
    const reader = new MultipartReader(Readable.from(chunks), Buffer.from(BOUNDARY), 16);
    const out: [string, string][] = [];
    for (let part = await reader.next(); part; part = await reader.next()) {
      const headers = JSON.stringify([...(await part.headers())]);
      const body: Buffer[] = [];
      for (let b = await part.read(readSize); b.length; b = await part.read(readSize)) body.push(b);
      out.push([headers, Buffer.concat(body).toString('latin1')]);
    }
    return out;
  }

  it('reads the same parts however the body is cut into chunks', async () => {
    const body = form(
      [['a', 'x'], ['b', `x--${BOUNDARY}\r\n-- not a boundary`]],
      [{ filename: 'f', content: Buffer.from(`\r\n--${BOUNDARY.slice(0, -1)}Z\r\n--\r\n`) }, { filename: 'g', content: '', contentType: 'text/x' }],
    );
    const whole = await parts([body], 1000);
    expect(whole.map(([, b]) => b)).toEqual(['x', `x--${BOUNDARY}\r\n-- not a boundary`, `\r\n--${BOUNDARY.slice(0, -1)}Z\r\n--\r\n`, '']);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 50 }), async (sizes, readSize) => {
        const chunks: Buffer[] = [];
        for (let at = 0, i = 0; at < body.length; i++) {
          const n = sizes[i % sizes.length]!;
          chunks.push(body.subarray(at, at + n));
          at += n;
        }
        expect(await parts(chunks, readSize)).toEqual(whole);
      }),
      { numRuns: 150, seed: 20261203 },
    );
  });

  it("parse Content-Disposition as Swift's parse_content_disposition", () => {
    expect(parseContentDisposition('form-data; name="somefile"; filename="test.html"')).toEqual(['form-data', new Map([['name', 'somefile'], ['filename', 'test.html']])]);
    expect(parseContentDisposition('multipart/form-data; boundary=abc')).toEqual(['multipart/form-data', new Map([['boundary', 'abc']])]);
    expect(parseContentDisposition('form-data;name=a;x')).toEqual(['form-data', new Map([['name', 'a']])]);
    expect(parseContentDisposition('attachment')).toEqual(['attachment', new Map()]);
  });

  it('read header blocks as the email parser does', () => {
    const h = parseHeaderLines(['Content-Type: text/plain  \r\n', 'X-Folded: a\r\n', ' b\r\n', 'content-type: second\r\n', '\r\n']);
    expect(h.get('content-type')).toBe('text/plain  ');
    expect(h.get('x-folded')).toBe('a\r\n b');
    expect([...parseHeaderLines(['no colon here\r\n', 'A: b\r\n']).keys()]).toEqual([]);
  });
});
