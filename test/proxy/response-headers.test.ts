/**
 * ResponseHeaders against undici's Headers, which it stands in for: the same operations give
 * the same answers, the same iteration and the same refusals (a TypeError), operation by operation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ResponseHeaders, responseHeaders } from '../../src/proxy/response-headers';

const names = fc.constantFrom('Content-Type', 'content-type', 'X-Trans-Id', 'set-cookie', 'Set-Cookie', 'vary', 'X-Object-Meta-A', 'bad name', '', 'x-ü', 'Etag');
const values = fc.oneof(
  fc.constantFrom('text/plain', ' padded\t', 'a, b', '', '\tx', 'café', 'caf\u00c3\u00a9', 'line\nbreak', 'nul\0', 'wide\u0100', 'cr\r', '  '),
  fc.string({ maxLength: 6 }),
);
const op = fc.oneof(
  fc.tuple(fc.constant('append' as const), names, values),
  fc.tuple(fc.constant('set' as const), names, values),
  fc.tuple(fc.constant('delete' as const), names, fc.constant('')),
  fc.tuple(fc.constant('get' as const), names, fc.constant('')),
  fc.tuple(fc.constant('has' as const), names, fc.constant('')),
  fc.tuple(fc.constant('getSetCookie' as const), fc.constant(''), fc.constant('')),
);

function apply(h: Headers, [kind, name, value]: [string, string, string]): unknown {
  try {
    switch (kind) {
      case 'append':
        return h.append(name, value);
      case 'set':
        return h.set(name, value);
      case 'delete':
        return h.delete(name);
      case 'get':
        return h.get(name);
      case 'has':
        return h.has(name);
      default:
        return h.getSetCookie();
    }
  } catch (err) {
    return err instanceof TypeError ? 'TypeError' : err;
  }
}

describe('ResponseHeaders, differentially against undici Headers', () => {
  it('answers every sequence of operations as Headers does, and iterates the same', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        const ours = responseHeaders();
        const theirs = new Headers();
        for (const o of ops) expect(apply(ours, o as [string, string, string])).toEqual(apply(theirs, o as [string, string, string]));
        expect([...ours]).toEqual([...theirs]);
        expect([...ours.keys()]).toEqual([...theirs.keys()]);
        expect([...ours.values()]).toEqual([...theirs.values()]);
        const seen: [string, string][] = [];
        ours.forEach((v, k) => seen.push([k, v]));
        expect(seen).toEqual([...theirs]);
      }),
      { numRuns: 2000 },
    );
  });

  it('takes the same inits: a record, pairs, and another Headers', () => {
    const record = { 'Content-Type': 'text/plain', 'X-A': ' 1 ', 'set-cookie': 'a=1' };
    expect([...responseHeaders(record)]).toEqual([...new Headers(record)]);
    const pairs: [string, string][] = [['set-cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['x-b', '1'], ['X-B', '2']];
    expect([...responseHeaders(pairs)]).toEqual([...new Headers(pairs)]);
    expect([...responseHeaders(new Headers(pairs))]).toEqual([...new Headers(pairs)]);
    expect(() => responseHeaders({ 'bad name': 'x' })).toThrow(TypeError);
  });

  it('is a Headers to undici and to @hono/node-server: copied by new Headers() and by a Response', () => {
    const ours = responseHeaders({ 'x-trans-id': 'tx1', 'content-length': '0' });
    expect(ours instanceof Headers).toBe(true);
    expect(ours instanceof ResponseHeaders).toBe(true);
    expect([...new Headers(ours)]).toEqual([['content-length', '0'], ['x-trans-id', 'tx1']]);
    const res = new Response(null, { status: 204, headers: ours });
    expect(res.headers.get('x-trans-id')).toBe('tx1');
    expect(Object.prototype.toString.call(ours)).toBe('[object Headers]');
  });
});
