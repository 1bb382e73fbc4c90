/**
 * Conditional GET and HEAD on objects (issue 11): the ETag of a 304 and of a 412 is unquoted, as
 * on a 200 (Swift's update_headers), and the answer carries one Date, the proxy's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../../src/testing/index';
import { call, cluster, OWNER, rawRequest, uniq } from './helpers';

let cl: TestCluster;
const o = `/v1/AUTH_test/${uniq('cond')}/o`;
const ETAG = '5d41402abc4b2a76b9719d911017c592'; // md5("hello")

beforeAll(async () => {
  cl = await cluster({ replicas: 3 });
  expect((await call(cl.url, 'PUT', o.slice(0, o.lastIndexOf('/')), OWNER)).status).toBe(201);
  expect((await call(cl.url, 'PUT', o, OWNER, { body: 'hello' })).status).toBe(201);
});
afterAll(() => cl?.stop());

/** The status and header lines of a raw answer (duplicates kept). */
async function rawHead(method: string, headers: Record<string, string>): Promise<{ status: number; lines: string[] }> {
  const host = new URL(cl.url).host;
  const extra = Object.entries({ ...OWNER, ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const r = await rawRequest(cl.url, `${method} ${o} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`);
  return { status: r.status, lines: r.text.split('\r\n\r\n')[0]!.split('\r\n').slice(1) };
}

describe.each(['GET', 'HEAD'])('%s', (method) => {
  it.each([
    [{ 'If-Match': '"nope"' }, 412],
    [{ 'If-None-Match': `"${ETAG}"` }, 304],
    [{ 'If-None-Match': '*' }, 304],
    [{ 'If-Modified-Since': 'Fri, 01 Jan 2100 00:00:00 GMT' }, 304],
    [{ 'If-Unmodified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' }, 412],
    [{ 'If-Match': `"${ETAG}"` }, 200],
  ] as const)('%j: %i with the ETag unquoted and one Date', async (headers, status) => {
    const r = await rawHead(method, headers);
    expect(r.status).toBe(status);
    const etags = r.lines.filter((l) => /^etag:/i.test(l));
    expect(etags.map((l) => l.replace(/^etag:\s*/i, ''))).toEqual([ETAG]);
    expect(r.lines.filter((l) => /^date:/i.test(l))).toHaveLength(1);
  });
});
