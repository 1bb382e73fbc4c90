/**
 * The differential harness's cases (data): each a sequence of raw requests sent to Swift and to
 * sluice alike, after setup requests (containers, objects, manifests) sent identically to both.
 * `covers` names what a case exercises: a pipeline filter (as named in the SAIO pipeline) or an
 * item of issue 11's wire details (`item1` … `item7`); test/scripts/differential.test.ts fails
 * when a filter of the pipeline has no case. Each case works in containers of its own
 * (`c-<id>`), so cases are independent and can run alone (`--case <id>`).
 */
import { createHash, createHmac } from 'node:crypto';
import { tarArchive } from './tar-writer';
import { SYNC_REALM } from './differential-config';

/** What a step may vary per side: the proxy's port and the TempAuth tokens. */
export interface SideContext {
  port: number;
  token(user: string): string;
  /** Unix seconds shared by both sides (temp URL and form expiries). */
  now: number;
}

export interface Step {
  method: string;
  /** The request target: a string is latin-1 bytes (so `\xc3\xa9` is raw UTF-8 é). */
  target: string | Buffer;
  headers?: Array<[string, string]>;
  body?: string | Buffer;
  /** TempAuth user whose token goes in X-Auth-Token (default test:tester); null: none. */
  as?: string | null;
  /** `none`: no Content-Length added (for bodies framed by the case's own headers, or none). */
  length?: 'auto' | 'none';
  version?: string;
  /** No Host header (HTTP/1.0 cases). */
  noHost?: boolean;
}

export type StepSpec = Step | ((ctx: SideContext) => Step);

export interface Case {
  id: string;
  covers: string[];
  setup?: StepSpec[];
  steps: StepSpec[];
  /** Reads account-wide state (listings, counts) that other cases change: runs alone, after them. */
  exclusive?: boolean;
}

const A = '/v1/AUTH_test';
const c = (id: string) => `${A}/c-${id}`;

const step = (method: string, target: string | Buffer, headers: Array<[string, string]> = [], extra: Partial<Step> = {}): Step => ({ method, target, headers, ...extra });
const get = (t: string | Buffer, h: Array<[string, string]> = [], x: Partial<Step> = {}) => step('GET', t, h, x);
const head = (t: string | Buffer, h: Array<[string, string]> = [], x: Partial<Step> = {}) => step('HEAD', t, h, x);
const put = (t: string | Buffer, body = '', h: Array<[string, string]> = [], x: Partial<Step> = {}) => step('PUT', t, h, { body, ...x });
const post = (t: string | Buffer, h: Array<[string, string]> = [], x: Partial<Step> = {}) => step('POST', t, h, x);
const del = (t: string | Buffer, h: Array<[string, string]> = [], x: Partial<Step> = {}) => step('DELETE', t, h, x);

const hmac = (alg: 'sha1' | 'sha256', key: string, msg: string) => createHmac(alg, key).update(msg).digest('hex');

const cases: Case[] = [];
const add = (id: string, covers: string[], steps: StepSpec[], setup: StepSpec[] = []) => cases.push({ id, covers, setup, steps });
/** A case that lists or counts an account other cases also write to. */
const addAlone = (id: string, covers: string[], steps: StepSpec[], setup: StepSpec[] = []) => cases.push({ id, covers, setup, steps, exclusive: true });

// --- item 1: raw bytes in the request line ----------------------------------------------------
add('utf8-raw-object-get', ['item1'], [get(`${c('utf8-raw-object-get')}/\xc3\xa9t\xc3\xa9`), head(`${c('utf8-raw-object-get')}/\xc3\xa9t\xc3\xa9`)], [put(c('utf8-raw-object-get')), put(`${c('utf8-raw-object-get')}/%C3%A9t%C3%A9`, 'summer')]);
add('utf8-raw-object-put', ['item1', 'listing_formats'], [put(`${c('utf8-raw-object-put')}/caf\xc3\xa9`, 'x'), get(`${c('utf8-raw-object-put')}?format=json`)], [put(c('utf8-raw-object-put'))]);
add('utf8-raw-container-put', ['item1'], [put(`${A}/c-utf8-raw-\xe2\x98\x83`), head(`${A}/c-utf8-raw-%E2%98%83`)]);
add('utf8-raw-query', ['item1', 'listing_formats'], [get(`${c('utf8-raw-query')}?format=json&prefix=\xc3\xa9`)], [put(c('utf8-raw-query')), put(`${c('utf8-raw-query')}/%C3%A9a`, 'a'), put(`${c('utf8-raw-query')}/b`, 'b')]);
add('utf8-invalid-object', ['item1'], [get(`${c('utf8-invalid-object')}/\xff\xfe`)], [put(c('utf8-invalid-object'))]);
add('utf8-invalid-container', ['item1'], [put(`${A}/c-\xc3(`)]);
add('utf8-invalid-encoded', ['item1'], [get(`${c('utf8-invalid-encoded')}/%FF`)], [put(c('utf8-invalid-encoded'))]);
add('utf8-overlong', ['item1'], [get(`${c('utf8-overlong')}/\xc0\xaf`)], [put(c('utf8-overlong'))]);

// --- item 2: bodies without a length -------------------------------------------------------------
add('put-no-length', ['item2'], [put(`${c('put-no-length')}/o`, '', [], { length: 'none' })], [put(c('put-no-length'))]);
add('put-te-gzip-chunked', ['item2'], [put(`${c('put-te-gzip-chunked')}/o`, '5\r\nhello\r\n0\r\n\r\n', [['Transfer-Encoding', 'gzip, chunked']], { length: 'none' })], [put(c('put-te-gzip-chunked'))]);
add('put-te-chunked', ['item2'], [put(`${c('put-te-chunked')}/o`, '5\r\nhello\r\n0\r\n\r\n', [['Transfer-Encoding', 'chunked']], { length: 'none' }), get(`${c('put-te-chunked')}/o`)], [put(c('put-te-chunked'))]);
add('put-te-identity', ['item2'], [put(`${c('put-te-identity')}/o`, '', [['Transfer-Encoding', 'identity']], { length: 'none' })], [put(c('put-te-identity'))]);
add('post-no-length', ['item2'], [post(`${c('post-no-length')}/o`, [['X-Object-Meta-A', 'b']], { length: 'none' })], [put(c('post-no-length')), put(`${c('post-no-length')}/o`, 'x')]);

// --- item 3: ETag of conditional failures --------------------------------------------------------
for (const [id, cond] of [
  ['etag-304-if-none-match', ['If-None-Match', '"5d41402abc4b2a76b9719d911017c592"']],
  ['etag-304-star', ['If-None-Match', '*']],
  ['etag-412-if-match', ['If-Match', '"nope"']],
  ['etag-412-unmodified-since', ['If-Unmodified-Since', 'Thu, 01 Jan 1970 00:00:01 GMT']],
] as const) {
  add(id, ['item3'], [get(`${c(id)}/o`, [[cond[0], cond[1]]]), head(`${c(id)}/o`, [[cond[0], cond[1]]])], [put(c(id)), put(`${c(id)}/o`, 'hello')]);
}
add('etag-quoted-304', ['item3', 'etag-quoter'], [get(`${c('etag-quoted-304')}/o`, [['If-None-Match', '5d41402abc4b2a76b9719d911017c592']]), get(`${c('etag-quoted-304')}/o`, [['If-Match', 'nope']])], [put(c('etag-quoted-304'), '', [['X-Container-Meta-Rfc-Compliant-Etags', 'true']]), put(`${c('etag-quoted-304')}/o`, 'hello')]);

// --- item 4: header names as Swift writes them, and Connection ------------------------------------
add('names-object-meta', ['item4'], [head(`${c('names-object-meta')}/o`), get(`${c('names-object-meta')}/o`)], [
  put(c('names-object-meta')),
  put(`${c('names-object-meta')}/o`, 'x', [['X-Object-Meta-Color', 'blue'], ['x-object-meta-lower-case', 'l'], ['X-OBJECT-META-UPPER', 'U'], ['Content-Disposition', 'inline'], ['Content-Encoding', 'identity'], ['X-Delete-After', '86400']]),
]);
add('names-container-meta', ['item4'], [head(c('names-container-meta')), get(c('names-container-meta'))], [put(c('names-container-meta'), '', [['X-Container-Meta-Web-Thing', 'a'], ['x-container-meta-lower', 'b'], ['X-Container-Read', '.r:*']])]);
add('names-account', ['item4'], [head(A), post(A, [['X-Account-Meta-Differential', 'yes']]), head(A)]);
add('names-put-201', ['item4'], [put(`${c('names-put-201')}/o`, 'x')], [put(c('names-put-201'))]);
add('names-post-202', ['item4'], [post(`${c('names-post-202')}/o`, [['X-Object-Meta-A', 'b']])], [put(c('names-post-202')), put(`${c('names-post-202')}/o`, 'x')]);
add('names-delete-204', ['item4'], [del(`${c('names-delete-204')}/o`), del(`${c('names-delete-204')}/o`)], [put(c('names-delete-204')), put(`${c('names-delete-204')}/o`, 'x')]);
add('names-404', ['item4'], [get(`${c('names-404')}/missing`), head(`${c('names-404')}/missing`), get(`${A}/c-names-404-none`)], [put(c('names-404'))]);
add('names-range-206', ['item4'], [get(`${c('names-range-206')}/o`, [['Range', 'bytes=2-5']]), get(`${c('names-range-206')}/o`, [['Range', 'bytes=0-1,4-5']]), get(`${c('names-range-206')}/o`, [['Range', 'bytes=100-']])], [put(c('names-range-206')), put(`${c('names-range-206')}/o`, '0123456789')]);
add('names-container-put-delete', ['item4'], [put(c('names-container-put-delete')), put(c('names-container-put-delete')), del(c('names-container-put-delete')), del(c('names-container-put-delete'))]);
add('names-container-not-empty', ['item4'], [del(c('names-container-not-empty'))], [put(c('names-container-not-empty')), put(`${c('names-container-not-empty')}/o`, 'x')]);
add('names-bad-request', ['item4'], [put(`${c('names-bad-request')}/o`, 'x', [['X-Delete-At', 'soon']]), put(`${c('names-bad-request')}/o`, 'x', [['X-Delete-After', '1.5']])], [put(c('names-bad-request'))]);
add('duplicate-content-length', ['item2'], [put(`${c('duplicate-content-length')}/o`, 'x', [['Content-Length', '1'], ['Content-Length', '2']], { length: 'none' })], [put(c('duplicate-content-length'))]);
add('names-object-name-too-long', ['item4'], [put(`${c('names-object-name-too-long')}/${'n'.repeat(1025)}`, 'x')], [put(c('names-object-name-too-long'))]);
add('names-method-not-allowed', ['item4'], [step('PATCH', `${c('names-method-not-allowed')}/o`), step('OPTIONS', `${c('names-method-not-allowed')}/o`)], [put(c('names-method-not-allowed'))]);
for (const [id, h, version] of [
  ['connection-none', [], 'HTTP/1.1'],
  ['connection-close', [['Connection', 'close']], 'HTTP/1.1'],
  ['connection-keep-alive', [['Connection', 'keep-alive']], 'HTTP/1.1'],
  ['connection-http10', [], 'HTTP/1.0'],
  ['connection-http10-keep-alive', [['Connection', 'keep-alive']], 'HTTP/1.0'],
] as Array<[string, Array<[string, string]>, string]>) {
  add(id, ['item4', 'healthcheck'], [get('/healthcheck', h, { as: null, version }), get(`${c(id)}/o`, h, { version })], [put(c(id)), put(`${c(id)}/o`, 'x')]);
}

add('http11-no-host', ['item4'], [get('/healthcheck', [], { as: null, noHost: true }), get(`${c('http11-no-host')}/o`, [], { noHost: true })], [put(c('http11-no-host')), put(`${c('http11-no-host')}/o`, 'x')]);

// --- item 5: Content-Type guessed from the name (Python's mimetypes, as Swift) ------------------------
for (const ext of ['wav', 'mp3', 'mp4', 'txt', 'html', 'css', 'js', 'json', 'xml', 'png', 'jpg', 'gif', 'svg', 'pdf', 'zip', 'gz', 'tar', 'tgz', 'csv', 'md', 'py', 'ico', 'webp', 'ogg', 'flac', 'avi', 'docx', 'xlsx', 'woff2', 'yaml', 'exe', 'wasm', 'unknownext', 'TXT']) {
  const id = `ctype-${ext.toLowerCase() === ext ? ext : `${ext}-upper`}`;
  add(id, ['item5'], [head(`${c(id)}/file.${ext}`), get(`${c(id)}?format=json`)], [put(c(id)), put(`${c(id)}/file.${ext}`, 'x')]);
}
add('ctype-detect-header', ['item5'], [head(`${c('ctype-detect-header')}/o.wav`)], [put(c('ctype-detect-header')), put(`${c('ctype-detect-header')}/o.wav`, 'x', [['Content-Type', 'text/plain'], ['X-Detect-Content-Type', 'true']])]);

// --- item 6: X-If-Delete-At -------------------------------------------------------------------------
add('if-delete-at-not-integer', ['item6'], [del(`${c('if-delete-at-not-integer')}/o`, [['X-If-Delete-At', 'soon']])], [put(c('if-delete-at-not-integer')), put(`${c('if-delete-at-not-integer')}/o`, 'x', [['X-Delete-At', '9999999999']])]);
add('if-delete-at-mismatch', ['item6'], [del(`${c('if-delete-at-mismatch')}/o`, [['X-If-Delete-At', '9999999998']]), del(`${c('if-delete-at-mismatch')}/o`, [['X-If-Delete-At', '9999999999']])], [put(c('if-delete-at-mismatch')), put(`${c('if-delete-at-mismatch')}/o`, 'x', [['X-Delete-At', '9999999999']])]);

// --- item 7: request-line length (eventlet reads at most 8192 bytes, CRLF included) ---------------------
for (const total of [8190, 8191, 8192, 8193]) {
  const id = `request-line-${total}`;
  const base = `${c(id)}/o?pad=`;
  // `GET ` + target + ` HTTP/1.1\r\n` is `total` bytes.
  const target = base + 'p'.repeat(total - 'GET '.length - ' HTTP/1.1\r\n'.length - base.length);
  add(id, ['item7'], [get(target)], [put(c(id)), put(`${c(id)}/o`, 'x')]);
}

// --- healthcheck, /info, catch_errors, gatekeeper, proxy-logging, cache, tempauth ----------------------
add('healthcheck-get', ['healthcheck', 'proxy-logging'], [get('/healthcheck', [], { as: null }), head('/healthcheck', [], { as: null }), post('/healthcheck', [], { as: null })]);
add('info', ['proxy-server', 'slo', 'tempurl', 'bulk', 'ratelimit', 'container_sync', 'staticweb', 'symlink', 'versioned_writes', 'etag-quoter', 'tempauth', 'account-quotas', 'container-quotas', 'formpost', 'dlo', 'copy', 'listing_formats', 'crossdomain'], [get('/info', [], { as: null })]);
add('info-head-options', ['proxy-server'], [head('/info', [], { as: null }), step('OPTIONS', '/info', [], { as: null }), post('/info', [], { as: null })]);
add('catch-errors-trans-id-extra', ['catch_errors'], [head(A, [['X-Trans-Id-Extra', 'differential']])]);
add('gatekeeper-sysmeta', ['gatekeeper'], [head(`${c('gatekeeper-sysmeta')}/o`)], [put(c('gatekeeper-sysmeta')), put(`${c('gatekeeper-sysmeta')}/o`, 'x', [['X-Object-Sysmeta-Secret', 'client'], ['X-Backend-Storage-Policy-Index', '0'], ['X-Object-Meta-Kept', 'yes']])]);
add('tempauth-login', ['tempauth', 'cache'], [get('/auth/v1.0', [['X-Auth-User', 'test:tester'], ['X-Auth-Key', 'testing']], { as: null }), get('/auth/v1.0', [['X-Storage-User', 'test:tester'], ['X-Storage-Pass', 'testing']], { as: null })]);
add('tempauth-bad-key', ['tempauth'], [get('/auth/v1.0', [['X-Auth-User', 'test:tester'], ['X-Auth-Key', 'wrong']], { as: null }), get('/auth/v1.0', [], { as: null }), get('/auth/v2.0', [], { as: null })]);
add('tempauth-no-token', ['tempauth'], [get(A, [], { as: null }), head(A, [], { as: null })]);
add('tempauth-bad-token', ['tempauth', 'cache'], [get(A, [['X-Auth-Token', 'AUTH_tk00000000000000000000000000000000']], { as: null })]);
add('tempauth-other-account', ['tempauth'], [get('/v1/AUTH_test2', [], { as: 'test:tester' }), put(`${c('tempauth-other-account')}/o`, 'x', [], { as: 'test:tester3' }), get(`${c('tempauth-other-account')}/o`, [], { as: 'test:tester3' })], [put(c('tempauth-other-account')), put(`${c('tempauth-other-account')}/o`, 'x')]);
add('tempauth-container-acl', ['tempauth'], [get(`${c('tempauth-container-acl')}/o`, [], { as: 'test:tester3' }), put(`${c('tempauth-container-acl')}/o2`, 'y', [], { as: 'test:tester3' })], [put(c('tempauth-container-acl'), '', [['X-Container-Read', 'test:tester3']]), put(`${c('tempauth-container-acl')}/o`, 'x')]);

// --- listing_formats -----------------------------------------------------------------------------------
const listingSetup = (id: string) => [put(c(id)), put(`${c(id)}/a.txt`, 'aa'), put(`${c(id)}/b/c`, 'bcc', [['Content-Type', 'application/x-test']]), put(`${c(id)}/%C3%A9`, 'e')];
add('listing-plain', ['listing_formats'], [get(c('listing-plain')), get(`${c('listing-plain')}?delimiter=/`)], listingSetup('listing-plain'));
add('listing-json', ['listing_formats'], [get(`${c('listing-json')}?format=json`), get(`${c('listing-json')}?format=json&delimiter=/`)], listingSetup('listing-json'));
add('listing-xml', ['listing_formats'], [get(`${c('listing-xml')}?format=xml`), get(`${c('listing-xml')}?format=xml&delimiter=/`)], listingSetup('listing-xml'));
add('listing-accept', ['listing_formats'], [get(c('listing-accept'), [['Accept', 'application/json']]), get(c('listing-accept'), [['Accept', 'application/xml']]), get(c('listing-accept'), [['Accept', 'text/xml;q=0.5, */*;q=0.1']])], listingSetup('listing-accept'));
add('listing-bad-format', ['listing_formats'], [get(`${c('listing-bad-format')}?format=bogus`), get(`${c('listing-bad-format')}?limit=bogus`), get(`${c('listing-bad-format')}?limit=10001`)], listingSetup('listing-bad-format'));
add('listing-empty', ['listing_formats'], [get(c('listing-empty')), get(`${c('listing-empty')}?format=json`), get(`${c('listing-empty')}?format=xml`)], [put(c('listing-empty'))]);
add('listing-paging', ['listing_formats'], [get(`${c('listing-paging')}?format=json&limit=1&marker=a.txt`), get(`${c('listing-paging')}?end_marker=b&format=json`), get(`${c('listing-paging')}?reverse=true`)], listingSetup('listing-paging'));
addAlone('listing-account', ['listing_formats'], [get(`/v1/AUTH_lst?format=json`, [], { as: 'lst:tester' }), get('/v1/AUTH_lst?format=xml', [], { as: 'lst:tester' }), get('/v1/AUTH_lst', [], { as: 'lst:tester' })], [put('/v1/AUTH_lst/listed-a', '', [], { as: 'lst:tester' }), put('/v1/AUTH_lst/listed-b', '', [], { as: 'lst:tester' })]);

// --- etag-quoter -----------------------------------------------------------------------------------------
add('etag-quoter-container', ['etag-quoter'], [head(`${c('etag-quoter-container')}/o`), get(`${c('etag-quoter-container')}/o`)], [put(c('etag-quoter-container'), '', [['X-Container-Meta-Rfc-Compliant-Etags', 'true']]), put(`${c('etag-quoter-container')}/o`, 'hello')]);
add('etag-quoter-off', ['etag-quoter'], [head(`${c('etag-quoter-off')}/o`)], [put(c('etag-quoter-off'), '', [['X-Container-Meta-Rfc-Compliant-Etags', 'false']]), put(`${c('etag-quoter-off')}/o`, 'hello')]);
add('etag-quoter-account', ['etag-quoter'], [head('/v1/AUTH_test2/c-etag-quoter-account/o', [], { as: 'test2:tester2' })], [
  post('/v1/AUTH_test2', [['X-Account-Meta-Rfc-Compliant-Etags', 'true']], { as: 'test2:tester2' }),
  put('/v1/AUTH_test2/c-etag-quoter-account', '', [], { as: 'test2:tester2' }),
  put('/v1/AUTH_test2/c-etag-quoter-account/o', 'hello', [], { as: 'test2:tester2' }),
  post('/v1/AUTH_test2', [['X-Remove-Account-Meta-Rfc-Compliant-Etags', 'x']], { as: 'test2:tester2' }),
]);

// --- bulk ------------------------------------------------------------------------------------------------
add('bulk-delete', ['bulk'], [post(`${A}?bulk-delete`, [['Content-Type', 'text/plain'], ['Accept', 'application/json']], { body: '/c-bulk-delete/a\n/c-bulk-delete/b\n/c-bulk-delete/missing\n' }), get(`${c('bulk-delete')}?format=json`)], [put(c('bulk-delete')), put(`${c('bulk-delete')}/a`, 'a'), put(`${c('bulk-delete')}/b`, 'b')]);
add('bulk-delete-plain', ['bulk'], [post(`${A}?bulk-delete`, [['Content-Type', 'text/plain']], { body: '/c-bulk-delete-plain/a\n/c-bulk-delete-plain\n' })], [put(c('bulk-delete-plain')), put(`${c('bulk-delete-plain')}/a`, 'a')]);
add('bulk-delete-xml', ['bulk'], [post(`${A}?bulk-delete`, [['Content-Type', 'text/plain'], ['Accept', 'application/xml']], { body: '/c-bulk-delete-xml/nope\n' })]);
add('bulk-delete-container-not-empty', ['bulk'], [post(`${A}?bulk-delete`, [['Content-Type', 'text/plain'], ['Accept', 'application/json']], { body: '/c-bulk-delete-container-not-empty\n' })], [put(c('bulk-delete-container-not-empty')), put(`${c('bulk-delete-container-not-empty')}/a`, 'a')]);
const tar = tarArchive([
  { name: 'x/one.txt', data: Buffer.from('one') },
  { name: 'x/two.json', data: Buffer.from('{}') },
  { name: 'y/', data: Buffer.alloc(0), type: '5' },
]);
add('bulk-extract-account', ['bulk'], [put(`${A}?extract-archive=tar`, '', [['Accept', 'application/json']], { body: tar }), get(`${A}/x?format=json`)]);
add('bulk-extract-container', ['bulk'], [put(`${c('bulk-extract-container')}?extract-archive=tar`, '', [['Accept', 'application/json']], { body: tar }), get(`${c('bulk-extract-container')}?format=json`)], [put(c('bulk-extract-container'))]);
add('bulk-extract-bad', ['bulk'], [put(`${c('bulk-extract-bad')}?extract-archive=tar`, '', [['Accept', 'application/json']], { body: Buffer.from('not a tar archive'.repeat(40)) }), put(`${c('bulk-extract-bad')}?extract-archive=rar`, 'x')], [put(c('bulk-extract-bad'))]);

// --- tempurl --------------------------------------------------------------------------------------------
const TEMPURL_KEY = 'differential-key';
const turlSetup = (id: string) => [post(A, [['X-Account-Meta-Temp-URL-Key', TEMPURL_KEY]]), put(c(id)), put(`${c(id)}/o.txt`, 'temp url body')];
const signed = (method: string, path: string, query = '', alg: 'sha1' | 'sha256' = 'sha256', key = TEMPURL_KEY, dt = 3600) => (ctx: SideContext) => {
  const exp = ctx.now + dt;
  return step(method, `${path}?temp_url_sig=${hmac(alg, key, `${method === 'HEAD' ? 'GET' : method}\n${exp}\n${path}`)}&temp_url_expires=${exp}${query}`, [], { as: null, ...(method === 'PUT' ? { body: 'put through a temp url' } : {}) });
};
add('tempurl-get', ['tempurl'], [signed('GET', `${c('tempurl-get')}/o.txt`), signed('HEAD', `${c('tempurl-get')}/o.txt`)], turlSetup('tempurl-get'));
add('tempurl-sha1-inline', ['tempurl'], [signed('GET', `${c('tempurl-sha1-inline')}/o.txt`, '&inline', 'sha1'), signed('GET', `${c('tempurl-sha1-inline')}/o.txt`, '&filename=r%C3%A9sum%C3%A9.txt')], turlSetup('tempurl-sha1-inline'));
add('tempurl-bad-sig', ['tempurl'], [signed('GET', `${c('tempurl-bad-sig')}/o.txt`, '', 'sha256', 'wrong-key'), signed('DELETE', `${c('tempurl-bad-sig')}/o.txt`, '', 'sha256', 'wrong-key')], turlSetup('tempurl-bad-sig'));
add('tempurl-expired', ['tempurl'], [signed('GET', `${c('tempurl-expired')}/o.txt`, '', 'sha256', TEMPURL_KEY, -10), get(`${c('tempurl-expired')}/o.txt?temp_url_sig=abc&temp_url_expires=notanumber`, [], { as: null })], turlSetup('tempurl-expired'));
add('tempurl-put', ['tempurl'], [signed('PUT', `${c('tempurl-put')}/new.txt`), get(`${c('tempurl-put')}/new.txt`)], turlSetup('tempurl-put'));
add('tempurl-prefix', ['tempurl'], [(ctx) => {
  const exp = ctx.now + 3600;
  const prefix = `${c('tempurl-prefix')}/`;
  return get(`${prefix}o.txt?temp_url_sig=${hmac('sha256', TEMPURL_KEY, `GET\n${exp}\nprefix:${prefix}`)}&temp_url_expires=${exp}&temp_url_prefix=`, [], { as: null });
}], turlSetup('tempurl-prefix'));

// --- formpost -------------------------------------------------------------------------------------------
const formpost = (id: string, key: string, redirect: string) => (ctx: SideContext) => {
  const path = `${c(id)}/up/`;
  const exp = ctx.now + 3600;
  const sig = hmac('sha256', key, `${path}\n${redirect}\n1024\n2\n${exp}`);
  const b = 'differentialboundary';
  const field = (name: string, value: string) => `--${b}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const body = field('redirect', redirect) + field('max_file_size', '1024') + field('max_file_count', '2') + field('expires', String(exp)) + field('signature', sig) + `--${b}\r\nContent-Disposition: form-data; name="file1"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nform file one\r\n--${b}--\r\n`;
  return post(path, [['Content-Type', `multipart/form-data; boundary=${b}`]], { as: null, body });
};
add('formpost-upload', ['formpost'], [formpost('formpost-upload', TEMPURL_KEY, ''), get(`${c('formpost-upload')}/up/a.txt`)], turlSetup('formpost-upload'));
add('formpost-redirect', ['formpost'], [formpost('formpost-redirect', TEMPURL_KEY, 'http://example.com/done')], turlSetup('formpost-redirect'));
add('formpost-bad-sig', ['formpost'], [formpost('formpost-bad-sig', 'wrong', '')], turlSetup('formpost-bad-sig'));
add('formpost-not-multipart', ['formpost'], [post(`${c('formpost-not-multipart')}/up/`, [['Content-Type', 'text/plain']], { as: null, body: 'x' })], turlSetup('formpost-not-multipart'));

// --- ratelimit (configured low on AUTH_rl; AUTH_blk blacklisted) ----------------------------------------
add('ratelimit-account', ['ratelimit'], [put('/v1/AUTH_rl/c-rl-1', '', [], { as: 'rl:tester' }), put('/v1/AUTH_rl/c-rl-2', '', [], { as: 'rl:tester' })]);
add('ratelimit-blacklist', ['ratelimit'], [get('/v1/AUTH_blk', [], { as: 'blk:tester' }), put('/v1/AUTH_blk/c', '', [], { as: 'blk:tester' })]);

// --- crossdomain -------------------------------------------------------------------------------------------
add('crossdomain', ['crossdomain'], [get('/crossdomain.xml', [], { as: null }), head('/crossdomain.xml', [], { as: null }), post('/crossdomain.xml', [], { as: null })]);

// --- container_sync ----------------------------------------------------------------------------------------
const syncTo = `//${SYNC_REALM.realm}/${SYNC_REALM.cluster}/AUTH_test2/c-sync-dst`;
add('container-sync-realm', ['container_sync'], [post(c('container-sync-realm'), [['X-Container-Sync-To', syncTo], ['X-Container-Sync-Key', 'secret']]), head(c('container-sync-realm'))], [put(c('container-sync-realm'))]);
add('container-sync-bad-realm', ['container_sync'], [post(c('container-sync-bad-realm'), [['X-Container-Sync-To', '//NOPE/CLUSTER1/AUTH_test2/c']]), post(c('container-sync-bad-realm'), [['X-Container-Sync-To', `//${SYNC_REALM.realm}/NOPE/AUTH_test2/c`]])], [put(c('container-sync-bad-realm'))]);
add('container-sync-url', ['container_sync'], [post(c('container-sync-url'), [['X-Container-Sync-To', 'http://127.0.0.1/v1/AUTH_test2/c']]), post(c('container-sync-url'), [['X-Container-Sync-To', 'http://forbidden.example.com/v1/AUTH_test2/c']]), post(c('container-sync-url'), [['X-Container-Sync-To', 'ftp://127.0.0.1/v1/a/c']])], [put(c('container-sync-url'))]);
add('container-sync-auth-bad', ['container_sync'], [put(`${c('container-sync-auth-bad')}/o`, 'x', [['X-Container-Sync-Auth', `US nonce sig`], ['X-Timestamp', '1700000000.00000']], { as: null }), put(`${c('container-sync-auth-bad')}/o`, 'x', [['X-Container-Sync-Auth', 'garbage']], { as: null })], [put(c('container-sync-auth-bad'), '', [['X-Container-Sync-Key', 'secret']])]);

// --- staticweb -------------------------------------------------------------------------------------------------
const webSetup = (id: string, meta: Array<[string, string]>) => [
  put(c(id), '', [['X-Container-Read', '.r:*,.rlistings'], ...meta]),
  put(`${c(id)}/index.html`, '<html>index</html>', [['Content-Type', 'text/html']]),
  put(`${c(id)}/sub/index.html`, '<html>sub</html>', [['Content-Type', 'text/html']]),
  put(`${c(id)}/sub/file.txt`, 'file'),
  put(`${c(id)}/404error.html`, '<html>not here</html>', [['Content-Type', 'text/html']]),
  put(`${c(id)}/style.css`, 'body {}', [['Content-Type', 'text/css']]),
];
add('staticweb-index', ['staticweb'], [get(`${c('staticweb-index')}/`, [], { as: null }), get(c('staticweb-index'), [], { as: null }), get(`${c('staticweb-index')}/sub`, [], { as: null }), get(`${c('staticweb-index')}/sub/`, [], { as: null })], webSetup('staticweb-index', [['X-Container-Meta-Web-Index', 'index.html']]));
add('staticweb-listing', ['staticweb'], [get(`${c('staticweb-listing')}/`, [], { as: null }), get(`${c('staticweb-listing')}/sub/`, [], { as: null })], webSetup('staticweb-listing', [['X-Container-Meta-Web-Listings', 'true']]));
add('staticweb-listing-css', ['staticweb'], [get(`${c('staticweb-listing-css')}/`, [], { as: null })], webSetup('staticweb-listing-css', [['X-Container-Meta-Web-Listings', 'true'], ['X-Container-Meta-Web-Listings-Css', 'style.css']]));
add('staticweb-error', ['staticweb'], [get(`${c('staticweb-error')}/missing.html`, [], { as: null }), get(`${c('staticweb-error')}/nope/`, [], { as: null })], webSetup('staticweb-error', [['X-Container-Meta-Web-Index', 'index.html'], ['X-Container-Meta-Web-Error', 'error.html']]));
add('staticweb-web-mode', ['staticweb'], [get(`${c('staticweb-web-mode')}/`, [['X-Web-Mode', 'true']]), get(`${c('staticweb-web-mode')}/`)], webSetup('staticweb-web-mode', [['X-Container-Meta-Web-Index', 'index.html']]));
add('staticweb-directory-type', ['staticweb'], [get(`${c('staticweb-directory-type')}/dir`, [], { as: null }), get(`${c('staticweb-directory-type')}/dir/`, [], { as: null })], [...webSetup('staticweb-directory-type', [['X-Container-Meta-Web-Index', 'index.html'], ['X-Container-Meta-Web-Directory-Type', 'application/directory']]), put(`${c('staticweb-directory-type')}/dir`, '', [['Content-Type', 'application/directory']])]);

// --- copy ------------------------------------------------------------------------------------------------------
const copySetup = (id: string) => [put(c(id)), put(`${c(id)}-dst`), put(`${c(id)}/src`, 'copy me', [['X-Object-Meta-Origin', 'src'], ['Content-Type', 'text/x-src']])];
add('copy-method', ['copy'], [step('COPY', `${c('copy-method')}/src`, [['Destination', `c-copy-method-dst/dst`]]), head(`${c('copy-method')}-dst/dst`)], copySetup('copy-method'));
add('copy-put-from', ['copy'], [put(`${c('copy-put-from')}/dst`, '', [['X-Copy-From', 'c-copy-put-from/src'], ['X-Object-Meta-New', 'n']]), head(`${c('copy-put-from')}/dst`)], copySetup('copy-put-from'));
add('copy-fresh-metadata', ['copy'], [step('COPY', `${c('copy-fresh-metadata')}/src`, [['Destination', 'c-copy-fresh-metadata/dst'], ['X-Fresh-Metadata', 'true'], ['X-Object-Meta-Only', 'this']]), head(`${c('copy-fresh-metadata')}/dst`)], copySetup('copy-fresh-metadata'));
add('copy-missing', ['copy'], [step('COPY', `${c('copy-missing')}/nope`, [['Destination', 'c-copy-missing/dst']]), put(`${c('copy-missing')}/dst`, '', [['X-Copy-From', 'c-copy-missing/nope']])], copySetup('copy-missing'));
add('copy-bad-destination', ['copy'], [step('COPY', `${c('copy-bad-destination')}/src`, [['Destination', 'no-slash']]), step('COPY', `${c('copy-bad-destination')}/src`), put(`${c('copy-bad-destination')}/dst`, '', [['X-Copy-From', 'bad']])], copySetup('copy-bad-destination'));
add('copy-range', ['copy'], [put(`${c('copy-range')}/dst`, '', [['X-Copy-From', 'c-copy-range/src'], ['Range', 'bytes=0-3']]), get(`${c('copy-range')}/dst`)], copySetup('copy-range'));

// --- container-quotas and account-quotas ------------------------------------------------------------------------
add('container-quota-bytes', ['container-quotas'], [put(`${c('container-quota-bytes')}/big`, '0123456789AB'), put(`${c('container-quota-bytes')}/small`, '0123')], [put(c('container-quota-bytes'), '', [['X-Container-Meta-Quota-Bytes', '10']])]);
// The quota is set after the first object, so both proxies read the container's count afresh
// (a container POST clears the cached info; Swift's cached count would otherwise be stale).
add('container-quota-count', ['container-quotas'], [put(`${c('container-quota-count')}/two`, 'b')], [put(c('container-quota-count')), put(`${c('container-quota-count')}/one`, 'a'), post(c('container-quota-count'), [['X-Container-Meta-Quota-Count', '1']])]);
add('container-quota-invalid', ['container-quotas'], [post(c('container-quota-invalid'), [['X-Container-Meta-Quota-Bytes', 'lots']]), post(c('container-quota-invalid'), [['X-Container-Meta-Quota-Count', '-1']])], [put(c('container-quota-invalid'))]);
add('account-quota-non-reseller', ['account-quotas'], [post(A, [['X-Account-Meta-Quota-Bytes', '10']])]);
add('account-quota-exceeded', ['account-quotas'], [
  put('/v1/AUTH_quota/c/big', '0123456789AB', [], { as: 'admin:admin' }),
  put('/v1/AUTH_quota/c/small', '01', [], { as: 'admin:admin' }),
  post('/v1/AUTH_quota', [['X-Account-Meta-Quota-Bytes', 'x']], { as: 'admin:admin' }),
], [put('/v1/AUTH_quota', '', [], { as: 'admin:admin' }), post('/v1/AUTH_quota', [['X-Account-Meta-Quota-Bytes', '10']], { as: 'admin:admin' }), put('/v1/AUTH_quota/c', '', [], { as: 'admin:admin' })]);

// --- slo ---------------------------------------------------------------------------------------------------------
const hex = (s: string) => createHash('md5').update(s).digest('hex');
const md5 = { aaaa: hex('aaaa'), bbbb: hex('bbbb'), cc: hex('cc') };
const sloSetup = (id: string) => [put(c(id)), put(`${c(id)}/seg1`, 'aaaa'), put(`${c(id)}/seg2`, 'bbbb'), put(`${c(id)}/seg3`, 'cc')];
const manifest = (id: string) => JSON.stringify([
  { path: `/c-${id}/seg1`, etag: md5.aaaa, size_bytes: 4 },
  { path: `/c-${id}/seg2`, etag: null, size_bytes: null },
  { path: `/c-${id}/seg3`, etag: md5.cc, size_bytes: 2 },
]);
const withManifest = (id: string) => [...sloSetup(id), put(`${c(id)}/m?multipart-manifest=put`, manifest(id), [['Content-Type', 'application/x-test']])];
add('slo-put', ['slo'], [put(`${c('slo-put')}/m?multipart-manifest=put`, manifest('slo-put')), head(`${c('slo-put')}/m`)], sloSetup('slo-put'));
add('slo-put-bad-etag', ['slo'], [put(`${c('slo-put-bad-etag')}/m?multipart-manifest=put`, JSON.stringify([{ path: '/c-slo-put-bad-etag/seg1', etag: md5.bbbb }]))], sloSetup('slo-put-bad-etag'));
add('slo-put-bad-size', ['slo'], [put(`${c('slo-put-bad-size')}/m?multipart-manifest=put`, JSON.stringify([{ path: '/c-slo-put-bad-size/seg1', size_bytes: 5 }]))], sloSetup('slo-put-bad-size'));
add('slo-put-missing-segment', ['slo'], [put(`${c('slo-put-missing-segment')}/m?multipart-manifest=put`, JSON.stringify([{ path: '/c-slo-put-missing-segment/nope' }]))], sloSetup('slo-put-missing-segment'));
add('slo-put-bad-json', ['slo'], [put(`${c('slo-put-bad-json')}/m?multipart-manifest=put`, '{not json'), put(`${c('slo-put-bad-json')}/m?multipart-manifest=put`, '[]'), put(`${c('slo-put-bad-json')}/m?multipart-manifest=put`, JSON.stringify([{ path: 'no-container' }]))], sloSetup('slo-put-bad-json'));
add('slo-put-ranges-data', ['slo'], [put(`${c('slo-put-ranges-data')}/m?multipart-manifest=put`, JSON.stringify([{ path: '/c-slo-put-ranges-data/seg1', range: '1-2' }, { data: Buffer.from('DATA').toString('base64') }, { path: '/c-slo-put-ranges-data/seg2', range: '-1' }])), get(`${c('slo-put-ranges-data')}/m`)], sloSetup('slo-put-ranges-data'));
add('slo-get', ['slo'], [get(`${c('slo-get')}/m`), head(`${c('slo-get')}/m`)], withManifest('slo-get'));
add('slo-get-range', ['slo'], [get(`${c('slo-get-range')}/m`, [['Range', 'bytes=2-5']]), get(`${c('slo-get-range')}/m`, [['Range', 'bytes=-3']]), get(`${c('slo-get-range')}/m`, [['Range', 'bytes=1-2,7-9']]), get(`${c('slo-get-range')}/m`, [['Range', 'bytes=50-']])], withManifest('slo-get-range'));
add('slo-get-conditional', ['slo'], [get(`${c('slo-get-conditional')}/m`, [['If-Match', 'nope']]), get(`${c('slo-get-conditional')}/m`, [['If-None-Match', '*']])], withManifest('slo-get-conditional'));
add('slo-manifest-get', ['slo'], [get(`${c('slo-manifest-get')}/m?multipart-manifest=get`), get(`${c('slo-manifest-get')}/m?multipart-manifest=get&format=raw`), head(`${c('slo-manifest-get')}/m?multipart-manifest=get`)], withManifest('slo-manifest-get'));
add('slo-manifest-get-plain-object', ['slo'], [get(`${c('slo-manifest-get-plain-object')}/seg1?multipart-manifest=get`)], sloSetup('slo-manifest-get-plain-object'));
add('slo-delete', ['slo'], [del(`${c('slo-delete')}/m?multipart-manifest=delete`, [['Accept', 'application/json']]), get(`${c('slo-delete')}?format=json`)], withManifest('slo-delete'));
add('slo-delete-plain', ['slo'], [del(`${c('slo-delete-plain')}/m?multipart-manifest=delete`), get(c('slo-delete-plain'))], withManifest('slo-delete-plain'));
add('slo-delete-manifest-only', ['slo'], [del(`${c('slo-delete-manifest-only')}/m`), get(c('slo-delete-manifest-only'))], withManifest('slo-delete-manifest-only'));
add('slo-listing', ['slo'], [get(`${c('slo-listing')}?format=json&prefix=m`)], withManifest('slo-listing'));
add('slo-copy', ['slo', 'copy'], [step('COPY', `${c('slo-copy')}/m`, [['Destination', 'c-slo-copy/m2']]), get(`${c('slo-copy')}/m2`), step('COPY', `${c('slo-copy')}/m?multipart-manifest=get`, [['Destination', 'c-slo-copy/m3']]), head(`${c('slo-copy')}/m3`)], withManifest('slo-copy'));
add('slo-nested', ['slo'], [put(`${c('slo-nested')}/outer?multipart-manifest=put`, JSON.stringify([{ path: '/c-slo-nested/m' }, { path: '/c-slo-nested/seg1' }])), get(`${c('slo-nested')}/outer`)], withManifest('slo-nested'));

// --- dlo --------------------------------------------------------------------------------------------------------------
const dloSetup = (id: string) => [put(c(id)), put(`${c(id)}/seg/001`, 'aaaa'), put(`${c(id)}/seg/002`, 'bbbb'), put(`${c(id)}/seg/003`, 'cc'), put(`${c(id)}/m`, '', [['X-Object-Manifest', `c-${id}/seg/`]])];
add('dlo-get', ['dlo'], [get(`${c('dlo-get')}/m`), head(`${c('dlo-get')}/m`)], dloSetup('dlo-get'));
add('dlo-range', ['dlo'], [get(`${c('dlo-range')}/m`, [['Range', 'bytes=3-8']]), get(`${c('dlo-range')}/m`, [['Range', 'bytes=-2']]), get(`${c('dlo-range')}/m`, [['Range', 'bytes=20-']])], dloSetup('dlo-range'));
add('dlo-manifest-get', ['dlo'], [get(`${c('dlo-manifest-get')}/m?multipart-manifest=get`), head(`${c('dlo-manifest-get')}/m?multipart-manifest=get`)], dloSetup('dlo-manifest-get'));
add('dlo-empty-prefix', ['dlo'], [get(`${c('dlo-empty-prefix')}/m2`)], [...dloSetup('dlo-empty-prefix'), put(`${c('dlo-empty-prefix')}/m2`, '', [['X-Object-Manifest', 'c-dlo-empty-prefix/none/']])]);
add('dlo-bad-header', ['dlo'], [put(`${c('dlo-bad-header')}/m`, '', [['X-Object-Manifest', 'no-slash']]), put(`${c('dlo-bad-header')}/m`, '', [['X-Object-Manifest', '/c/o']])], [put(c('dlo-bad-header'))]);
add('dlo-conditional', ['dlo'], [get(`${c('dlo-conditional')}/m`, [['If-Match', 'nope']]), get(`${c('dlo-conditional')}/m`, [['If-None-Match', '*']])], dloSetup('dlo-conditional'));

// --- versioned_writes ---------------------------------------------------------------------------------------------------
const versSetup = (id: string, mode: string) => [put(`${c(id)}-v`), put(c(id), '', [[mode, `c-${id}-v`]]), put(`${c(id)}/o`, 'first'), put(`${c(id)}/o`, 'second')];
add('versions-stack', ['versioned_writes'], [get(`${c('versions-stack')}-v?format=json`), head(c('versions-stack')), del(`${c('versions-stack')}/o`), get(`${c('versions-stack')}/o`), get(`${c('versions-stack')}-v`)], versSetup('versions-stack', 'X-Versions-Location'));
add('versions-history', ['versioned_writes'], [del(`${c('versions-history')}/o`), get(`${c('versions-history')}/o`), get(`${c('versions-history')}-v?format=json`)], versSetup('versions-history', 'X-History-Location'));
add('versions-both-headers', ['versioned_writes'], [put(c('versions-both-headers'), '', [['X-Versions-Location', 'a'], ['X-History-Location', 'b']]), post(c('versions-both-headers'), [['X-Versions-Mode', 'stack']])]);
add('versions-remove', ['versioned_writes'], [post(c('versions-remove'), [['X-Remove-Versions-Location', 'x']]), head(c('versions-remove'))], versSetup('versions-remove', 'X-Versions-Location'));

// --- symlink ------------------------------------------------------------------------------------------------------------
const linkSetup = (id: string) => [put(c(id)), put(`${c(id)}/target`, 'pointed at', [['Content-Type', 'text/x-target']]), put(`${c(id)}/link`, '', [['X-Symlink-Target', `c-${id}/target`]])];
add('symlink-get', ['symlink'], [get(`${c('symlink-get')}/link`), head(`${c('symlink-get')}/link`)], linkSetup('symlink-get'));
add('symlink-get-link', ['symlink'], [get(`${c('symlink-get-link')}/link?symlink=get`), head(`${c('symlink-get-link')}/link?symlink=get`)], linkSetup('symlink-get-link'));
add('symlink-dangling', ['symlink'], [get(`${c('symlink-dangling')}/dangling`), head(`${c('symlink-dangling')}/dangling?symlink=get`)], [...linkSetup('symlink-dangling'), put(`${c('symlink-dangling')}/dangling`, '', [['X-Symlink-Target', 'c-symlink-dangling/none']])]);
add('symlink-bad-target', ['symlink'], [put(`${c('symlink-bad-target')}/l`, '', [['X-Symlink-Target', 'no-slash']]), put(`${c('symlink-bad-target')}/l`, 'body', [['X-Symlink-Target', 'c/o']])], [put(c('symlink-bad-target'))]);
add('symlink-static-etag', ['symlink'], [put(`${c('symlink-static-etag')}/s`, '', [['X-Symlink-Target', 'c-symlink-static-etag/target'], ['X-Symlink-Target-Etag', 'wrong']]), put(`${c('symlink-static-etag')}/s`, '', [['X-Symlink-Target', 'c-symlink-static-etag/target'], ['X-Symlink-Target-Etag', hex('pointed at')]]), head(`${c('symlink-static-etag')}/link`)], linkSetup('symlink-static-etag'));
add('symlink-listing', ['symlink', 'listing_formats'], [get(`${c('symlink-listing')}?format=json`)], linkSetup('symlink-listing'));
add('symlink-post', ['symlink'], [post(`${c('symlink-post')}/link`, [['X-Object-Meta-A', 'b']]), head(`${c('symlink-post')}/link?symlink=get`)], linkSetup('symlink-post'));

// --- deliberate differences (README "Differences from Swift"; scripts/lib/differential-known.ts) --------------
/** A tar.bz2 archive of one file, z/one.txt (made with Python's tarfile). */
const TAR_BZ2 = Buffer.from('QlpoOTFBWSZTWarqwhwAAHd7gMqAABBAAfeAAIBzJZ5QCAggAFQ0p6gBo9TRoDajygklAaaBkAAH3TyRCDOZCER5g4pe1CBDAxB3t08WRQwhIyBpZtCSWwuMReapNffFZ3+bNniREB+LuSKcKEhVdWEOAA==', 'base64');
add('bulk-extract-bz2', ['bulk'], [put(`${c('bulk-extract-bz2')}?extract-archive=tar.bz2`, '', [['Accept', 'application/json']], { body: TAR_BZ2 })], [put(c('bulk-extract-bz2'))]);
add('staticweb-error-head', ['staticweb'], [head(`${c('staticweb-error-head')}/missing.html`, [], { as: null })], webSetup('staticweb-error-head', [['X-Container-Meta-Web-Index', 'index.html'], ['X-Container-Meta-Web-Error', 'error.html']]));
add('container-sync-timestamp-not-ascii', ['container_sync'], [put(`${c('container-sync-timestamp-not-ascii')}/o`, 'x', [['X-Container-Sync-Auth', 'US nonce sig'], ['X-Timestamp', '17000\xc3\xa9']], { as: null })], [put(c('container-sync-timestamp-not-ascii'), '', [['X-Container-Sync-Key', 'secret']])]);
add('slo-put-entry-without-path', ['slo'], [put(`${c('slo-put-entry-without-path')}/m?multipart-manifest=put`, JSON.stringify([{ etag: null, size_bytes: null }]))], sloSetup('slo-put-entry-without-path'));

// --- the proxy itself ---------------------------------------------------------------------------------------------------
add('object-basic', ['proxy-server', 'proxy-logging'], [put(`${c('object-basic')}/o`, 'hello', [['Content-Type', 'text/plain'], ['ETag', '5d41402abc4b2a76b9719d911017c592']]), get(`${c('object-basic')}/o`), head(`${c('object-basic')}/o`), del(`${c('object-basic')}/o`)], [put(c('object-basic'))]);
add('object-etag-mismatch', ['proxy-server'], [put(`${c('object-etag-mismatch')}/o`, 'hello', [['ETag', 'nope']])], [put(c('object-etag-mismatch'))]);
add('object-no-container', ['proxy-server'], [put(`${A}/c-object-no-container-none/o`, 'x')]);
add('object-metadata-too-long', ['proxy-server'], [put(`${c('object-metadata-too-long')}/o`, 'x', [['X-Object-Meta-Big', 'v'.repeat(257)]]), put(`${c('object-metadata-too-long')}/o`, 'x', [['X-Object-Meta-' + 'n'.repeat(129), 'v']])], [put(c('object-metadata-too-long'))]);
add('object-delete-at', ['proxy-server'], [put(`${c('object-delete-at')}/o`, 'x', [['X-Delete-At', '1']]), put(`${c('object-delete-at')}/o`, 'x', [['X-Delete-After', '-5']])], [put(c('object-delete-at'))]);
add('object-post-content-type', ['proxy-server'], [post(`${c('object-post-content-type')}/o`, [['Content-Type', 'text/x-new']]), head(`${c('object-post-content-type')}/o`)], [put(c('object-post-content-type')), put(`${c('object-post-content-type')}/o`, 'x')]);
add('container-bad-names', ['proxy-server'], [put(`${A}/${'c'.repeat(257)}`), put(`${A}/a%2Fb`)]);
addAlone('account-post-meta', ['proxy-server'], [post('/v1/AUTH_lst', [['X-Account-Meta-Colour', 'red']], { as: 'lst:tester' }), head('/v1/AUTH_lst', [], { as: 'lst:tester' }), post('/v1/AUTH_lst', [['X-Remove-Account-Meta-Colour', 'x']], { as: 'lst:tester' })]);
add('bad-paths', ['proxy-server'], [get('/v1', [], { as: null }), get('/v2/AUTH_test', [], { as: null }), get('/nothing', [], { as: null }), get('/v1/AUTH_test//x')]);

export const CASES: readonly Case[] = cases;
