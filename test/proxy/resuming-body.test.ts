/**
 * resumingBody's own stream life cycle (its failover is tested through a cluster in
 * faults.test.ts): once every byte is relayed, the replica's body is left to reach its end.
 */
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { BackendStreamResponse } from '../../src/common/backend-client';
import type { RingNode } from '../../src/common/ring';
import { resumingBody } from '../../src/proxy/resuming-body';

function source(bytes: Buffer): { response: BackendStreamResponse; body: Readable } {
  const body = new Readable({ read() {} });
  const response: BackendStreamResponse = {
    node: { id: 0, index: 0, ip: '127.0.0.1', port: 1, device: 'sda' } as RingNode,
    status: 200,
    headers: { 'content-length': String(bytes.length), etag: 'x' },
    body,
  };
  body.push(bytes);
  return { response, body };
}

describe('resumingBody', () => {
  it('lets the replica body end on its own after the last byte, rather than aborting it', async () => {
    const bytes = Buffer.alloc(100_000, 7);
    const { response, body } = source(bytes);
    const out = resumingBody({ first: response, headers: {}, nextSource: async () => undefined });
    const got: Buffer[] = [];
    out.on('data', (c: Buffer) => got.push(c));
    await once(out, 'close');
    expect(Buffer.concat(got).equals(bytes)).toBe(true);
    // The relay is over; the replica's end (as undici's comes a tick after its last byte) is
    // still to come, and must arrive: an aborted body closes its backend connection.
    expect(body.destroyed).toBe(false);
    const ended = once(body, 'end');
    body.push(null);
    await ended;
    expect(body.errored).toBeNull();
  });

  it('drops the replica body when the client goes away before the end', async () => {
    const { response, body } = source(Buffer.alloc(10, 1));
    body.push(Buffer.alloc(10, 2));
    const out = resumingBody({ first: { ...response, headers: { 'content-length': '1000' } }, headers: {}, nextSource: async () => undefined });
    out.once('data', () => out.destroy());
    await once(out, 'close');
    expect(body.destroyed).toBe(true);
  });
});
