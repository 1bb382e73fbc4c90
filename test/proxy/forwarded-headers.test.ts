/** What the proxy passes on to storage servers from a GET/HEAD's headers. */
import { describe, expect, it } from 'vitest';
import { forwardedHeaders } from '../../src/proxy/controllers/account';
import { RequestHeaders } from '../../src/proxy/request-headers';
import { IDENTITY_HEADERS } from '../../src/common/identity-headers';
import type { ProxyContext } from '../../src/proxy/context';

function ctx(pairs: [string, string][]): ProxyContext {
  const headers = new RequestHeaders(pairs);
  return { get: (k: string) => (k === 'headers' ? headers : undefined) } as unknown as ProxyContext;
}

describe('forwardedHeaders', () => {
  it("passes the client's headers on, but not hop-by-hop ones, Host, Content-Length, or authtoken's identity headers", () => {
    const identity = IDENTITY_HEADERS.map((h): [string, string] => [h, 'v']);
    const out = forwardedHeaders(
      ctx([['Host', 'h'], ['Connection', 'keep-alive'], ['Content-Length', '0'], ['Range', 'bytes=0-1'], ['X-Auth-Token', 't'], ['X-Newest', 'true'], ...identity]),
    );
    expect(out).toEqual({ range: 'bytes=0-1', 'x-auth-token': 't', 'x-newest': 'true' });
    expect(IDENTITY_HEADERS).toEqual(expect.arrayContaining(['x-roles', 'x-service-roles', 'x-user-id', 'x-project-id', 'x-tenant-id', 'x-identity-status', 'openstack-system-scope']));
  });
});
