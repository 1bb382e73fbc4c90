/**
 * The differential harness's own logic (scripts/differential.ts), on canned answers: what is
 * normalised and what still counts as a difference, how known differences are matched, the wire
 * client's reading of names and bodies, and the case list's coverage of the SAIO pipeline and of
 * issue 11's wire details.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASES } from '../../scripts/lib/differential-cases';
import { proxyServerConf, SAIO_PIPELINE, USERS } from '../../scripts/lib/differential-config';
import { compareAnswers, judge, normaliseBody, normaliseText, type Answer, type KnownDifference } from '../../scripts/lib/differential-compare';
import { encodeRequest, exchange, parseResponseHead } from '../../scripts/lib/differential-http';
import { KNOWN_DIFFERENCES } from '../../scripts/lib/differential-known';
import { wireRequest } from '../../scripts/lib/differential-request';

const ctx = { ports: [8080, 9090] };
const answer = (over: Partial<Answer> = {}): Answer => ({ status: 200, reason: 'OK', headers: [['Content-Type', 'text/plain'], ['Content-Length', '2']], body: Buffer.from('ok'), ...over });

describe('normalising', () => {
  it('replaces transaction ids, tokens, dates, timestamps and the proxies’ ports, and nothing else', () => {
    const text = 'tx0123456789abcdef01234-0065a1b2c3extra AUTH_tk0123456789abcdef0123456789abcdef Thu, 03 Dec 2026 21:19:06 GMT 2026-12-03T21:19:06.123450 1700000000.12345 http://127.0.0.1:9090/v1 127.0.0.1:90901 9999999999';
    expect(normaliseText(text, ctx)).toBe('<txid>extra <token> <http-date> <iso-date> <timestamp> http://127.0.0.1:<port>/v1 127.0.0.1:90901 9999999999');
  });

  it('compares JSON bodies whatever their key order and spacing, with placeholders inside strings', () => {
    const a = normaliseBody(Buffer.from('{"b": 1, "a": {"last_modified": "2026-12-03T21:19:06.123450"}}'), [['Content-Type', 'application/json']], ctx);
    const b = normaliseBody(Buffer.from('{"a":{"last_modified":"2025-01-01T00:00:00.000000"},"b":1}'), [['Content-Type', 'application/json; charset=utf-8']], ctx);
    expect(a).toBe(b);
    expect(normaliseBody(Buffer.from('{"b": 2}'), [], ctx)).not.toBe(normaliseBody(Buffer.from('{"b": 1}'), [], ctx));
    // The hash of a listed SLO manifest (it has slo_etag) is left out; any other hash counts.
    const row = (hash: string, slo: boolean) => normaliseBody(Buffer.from(JSON.stringify([{ name: 'm', hash, ...(slo ? { slo_etag: '"abc"' } : {}) }])), [], ctx);
    expect(row('3130109b2a65176f9e5e51b59d3c0fa4', true)).toBe(row('8e9a4c9c0b2a09bbc63702998aa411eb', true));
    expect(row('3130109b2a65176f9e5e51b59d3c0fa4', false)).not.toBe(row('8e9a4c9c0b2a09bbc63702998aa411eb', false));
  });

  it('replaces a multipart/byteranges boundary in the body and in Content-Type', () => {
    const mk = (b: string): Answer => answer({ status: 206, reason: 'Partial Content', headers: [['Content-Type', `multipart/byteranges;boundary=${b}`]], body: Buffer.from(`--${b}\r\nContent-Range: bytes 0-1/10\r\n\r\n01\r\n--${b}--`) });
    expect(compareAnswers(mk('68c726e2a141de623c00b4760c7daac5'), mk('cac02b8acdfc63dbbfd7ff8688c8adfd'), ctx)).toEqual([]);
  });
});

describe('comparing two answers', () => {
  it('finds nothing when only volatile values differ', () => {
    const swift = answer({ headers: [['X-Trans-Id', 'tx0123456789abcdef01234-0065a1b2c3'], ['Date', 'Thu, 03 Dec 2026 21:19:06 GMT'], ['X-Timestamp', '1700000000.12345'], ['Allow', 'GET, HEAD, PUT'], ['X-Account-Object-Count', '0']] });
    const sluice = answer({ headers: [['Date', 'Fri, 04 Dec 2026 01:00:00 GMT'], ['X-Timestamp', '1800000000.00000'], ['X-Trans-Id', 'txfedcba9876543210fedcb-0065a1b2c4'], ['Allow', 'PUT, GET, HEAD'], ['X-Account-Object-Count', '10']] });
    expect(compareAnswers(swift, sluice, ctx)).toEqual([]);
  });

  it('reports status, reason, header-name case, values and bodies', () => {
    const diffs = compareAnswers(answer({ headers: [['Etag', 'abc'], ['X-Object-Meta-Color', 'blue']] }), answer({ status: 201, headers: [['etag', 'abc'], ['X-Object-Meta-Color', 'red']], body: Buffer.from('no') }), ctx);
    expect(diffs.map((d) => d.aspect).sort()).toEqual(['body', 'header-names', 'header:x-object-meta-color', 'status']);
    expect(diffs.find((d) => d.aspect === 'header-names')).toEqual({ aspect: 'header-names', swift: 'Etag', sluice: 'etag' });
    expect(compareAnswers(answer(), answer({ reason: 'Okay' }), ctx)).toEqual([{ aspect: 'reason', swift: 'OK', sluice: 'Okay' }]);
  });

  it('skips Etag and Content-Length only when the bodies differ in placeholders alone', () => {
    const listing = (date: string, etag: string) => answer({ headers: [['Content-Type', 'application/json'], ['Content-Length', String(30 + date.length)], ['Etag', etag]], body: Buffer.from(`[{"name": "o", "last_modified": "${date}"}]`) });
    expect(compareAnswers(listing('2026-12-03T21:19:06.123450', 'aaa'), listing('2026-12-03T21:19:07', 'bbb'), ctx)).toEqual([]);
    // Identical bodies: the Etag must agree.
    expect(compareAnswers(listing('2026-12-03T21:19:06', 'aaa'), listing('2026-12-03T21:19:06', 'bbb'), ctx).map((d) => d.aspect)).toEqual(['header:etag']);
  });

  it('leaves out the Etag of a stored SLO manifest (HEAD ?multipart-manifest=get) only when asked', () => {
    const manifest = (etag: string) => answer({ headers: [['Etag', etag], ['X-Static-Large-Object', 'True']], body: Buffer.alloc(0) });
    expect(compareAnswers(manifest('aaa'), manifest('bbb'), ctx, { storedManifest: true })).toEqual([]);
    expect(compareAnswers(manifest('aaa'), manifest('bbb'), ctx).map((d) => d.aspect)).toEqual(['header:etag']);
    expect(compareAnswers(answer({ headers: [['Etag', 'aaa']] }), answer({ headers: [['Etag', 'bbb']] }), ctx, { storedManifest: true }).map((d) => d.aspect)).toEqual(['header:etag']);
  });

  it('reports a connection the server closed without answering', () => {
    const none: Answer = { status: 0, reason: '', headers: [], body: Buffer.alloc(0), error: 'closed without an answer' };
    expect(compareAnswers(answer(), none, ctx).map((d) => d.aspect)).toContain('error');
  });
});

describe('known differences', () => {
  const known: KnownDifference[] = [{ caseId: 'k', step: 1, aspects: ['status', 'body'], what: 'w', readmeRow: 'r' }];
  const d = (aspect: string) => ({ aspect, swift: 'a', sluice: 'b' });

  it('PASS without differences, EXPECTED when every one is listed for that case and step, FAIL otherwise', () => {
    expect(judge('k', [{ step: 0, diffs: [] }], known)).toEqual({ kind: 'PASS' });
    expect(judge('k', [{ step: 1, diffs: [d('status'), d('body')] }], known)).toEqual({ kind: 'EXPECTED', known });
    expect(judge('k', [{ step: 1, diffs: [d('status'), d('header-names')] }], known).kind).toBe('FAIL');
    expect(judge('k', [{ step: 0, diffs: [d('status')] }], known).kind).toBe('FAIL');
    expect(judge('other', [{ step: 1, diffs: [d('status')] }], known).kind).toBe('FAIL');
    // A setup step that differs is never a known difference.
    expect(judge('k', [{ step: 'setup', diffs: [d('status')] }], known).kind).toBe('FAIL');
  });

  it('names existing cases and steps, and rows of the README’s Differences table', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Differences from Swift'));
    const rows = table.split('\n').filter((l) => l.startsWith('| '));
    for (const k of KNOWN_DIFFERENCES) {
      const c = CASES.find((x) => x.id === k.caseId);
      expect(c, k.caseId).toBeDefined();
      if (k.step !== undefined) expect(k.step).toBeLessThan(c!.steps.length);
      expect(rows.some((r) => r.startsWith(`| ${k.readmeRow}`)), `README row starting "${k.readmeRow}"`).toBe(true);
    }
  });
});

describe('the case list', () => {
  it('has 120 or more cases with unique ids', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(120);
    expect(new Set(CASES.map((c) => c.id)).size).toBe(CASES.length);
  });

  it('covers every filter of the SAIO pipeline and every wire detail of issue 11', () => {
    const covered = new Set(CASES.flatMap((c) => c.covers));
    const missing = [...SAIO_PIPELINE.split(' '), 'item1', 'item2', 'item3', 'item4', 'item5', 'item6', 'item7'].filter((n) => !covered.has(n));
    expect(missing).toEqual([]);
    // Covers name nothing else, so a renamed filter cannot leave a case counting for nothing.
    const known = new Set([...SAIO_PIPELINE.split(' '), 'item1', 'item2', 'item3', 'item4', 'item5', 'item6', 'item7']);
    expect([...covered].filter((n) => !known.has(n))).toEqual([]);
  });

  it('puts the request lines of item 7 at 8190 to 8193 bytes, CRLF included', () => {
    const wire = (id: string) => {
      const req = wireRequest(CASES.find((c) => c.id === id)!.steps[0]!, { port: 1, now: 0, token: () => 't' });
      const bytes = encodeRequest(req);
      return bytes.indexOf('\r\n') + 2;
    };
    expect([8190, 8191, 8192, 8193].map((n) => wire(`request-line-${n}`))).toEqual([8190, 8191, 8192, 8193]);
  });

  it('gives both sides the same TempAuth users in the proxy-server.conf they share', () => {
    const conf = proxyServerConf({ port: 1, memcachePort: 2, swiftDir: '/x' });
    expect(conf).toContain(`pipeline = ${SAIO_PIPELINE}\n`);
    for (const [user, key] of Object.entries(USERS)) {
      const [account, name] = user.split(':');
      expect(conf).toMatch(new RegExp(`^user_${account}_${name} = ${key}( |$)`, 'm'));
    }
  });
});

describe('wire requests', () => {
  const side = { port: 8080, now: 0, token: (u: string) => `tok-${u}` };

  it('adds Host, the step user’s token and a Content-Length, in that order before the step’s headers', () => {
    const req = wireRequest({ method: 'PUT', target: '/v1/AUTH_test/c/o', headers: [['X-Object-Meta-A', 'b']], body: 'hello', as: 'test2:tester2' }, side);
    expect(req.headers).toEqual([['Host', '127.0.0.1:8080'], ['X-Auth-Token', 'tok-test2:tester2'], ['X-Object-Meta-A', 'b'], ['Content-Length', '5']]);
    expect(encodeRequest(req).toString('latin1')).toBe('PUT /v1/AUTH_test/c/o HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Auth-Token: tok-test2:tester2\r\nX-Object-Meta-A: b\r\nContent-Length: 5\r\n\r\nhello');
  });

  it('sends neither length nor Host nor token when the step says so, and raw bytes in the target', () => {
    const req = wireRequest({ method: 'PUT', target: '/v1/AUTH_test/c/\xc3\xa9', as: null, length: 'none', version: 'HTTP/1.0' }, side);
    expect(req.headers).toEqual([]);
    expect(encodeRequest(req).subarray(0, 26)).toEqual(Buffer.from([...Buffer.from('PUT /v1/AUTH_test/c/'), 0xc3, 0xa9, ...Buffer.from(' HTT')]));
  });
});

describe('the wire client', () => {
  let server: Server;
  let port = 0;
  const replies: Buffer[] = [];
  beforeAll(async () => {
    server = createServer((sock) => {
      sock.once('data', () => sock.end(replies.shift() ?? Buffer.alloc(0)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('keeps the reason phrase and header names as written, and reads a chunked body', async () => {
    replies.push(Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nEtag: abc\r\nX-Object-Meta-Color: blue\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n'));
    const r = await exchange(port, { method: 'GET', target: '/', headers: [] });
    expect([r.status, r.reason, r.headers, r.body.toString()]).toEqual([201, 'Created', [['Etag', 'abc'], ['X-Object-Meta-Color', 'blue'], ['Transfer-Encoding', 'chunked']], 'abcde']);
  });

  it('reads no body for HEAD, and reports a connection closed without an answer', async () => {
    replies.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'));
    const h = await exchange(port, { method: 'HEAD', target: '/', headers: [] });
    expect([h.status, h.body.length]).toEqual([200, 0]);
    replies.push(Buffer.alloc(0));
    const none = await exchange(port, { method: 'GET', target: '/', headers: [] });
    expect([none.status, none.error]).toEqual([0, 'closed without an answer']);
  });

  it('parses a status line without a reason phrase', () => {
    expect(parseResponseHead('HTTP/1.0 414\r\nContent-Length: 0')).toEqual({ status: 414, reason: '', headers: [['Content-Length', '0']] });
    expect(parseResponseHead('garbage')).toBeUndefined();
  });
});
