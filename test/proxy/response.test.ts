// Client responses for backend bodies (src/proxy/response.ts): small bodies of known length are
// read whole, anything else streams; failures surface as a failing body.
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { editResponseHeaders, readAll, relayBody, SMALL_BODY_BYTES } from '../../src/proxy/response';

function source(chunks: Buffer[]): Readable {
  return Readable.from(chunks, { objectMode: false });
}

describe('relayBody', () => {
  it('reads a small body of known length before answering: the response holds bytes, not a stream', async () => {
    const body = source([Buffer.from('hello '), Buffer.from('world')]);
    const res = await relayBody(200, { 'content-length': '11', etag: 'x' }, body);
    expect(res.status).toBe(200);
    expect(body.readableEnded).toBe(true); // consumed before the client response exists
    expect(res.headers.get('etag')).toBe('x');
    expect(Buffer.from(await res.arrayBuffer()).toString()).toBe('hello world');
  });

  it('streams a body larger than the threshold, and one of unknown length, without reading it first', async () => {
    const big = Buffer.alloc(SMALL_BODY_BYTES + 1, 7);
    const pass = new PassThrough();
    const res = await relayBody(200, { 'content-length': String(big.length) }, pass);
    // Nothing was read yet: the backend body is still waiting for its data.
    expect(pass.readableEnded).toBe(false);
    pass.end(big);
    expect(Buffer.from(await res.arrayBuffer()).equals(big)).toBe(true);

    const unknown = new PassThrough();
    const res2 = await relayBody(200, {}, unknown);
    unknown.end('chunked');
    expect(await res2.text()).toBe('chunked');

    const odd = new PassThrough();
    const res3 = await relayBody(206, { 'content-length': 'abc' }, odd);
    odd.end('x');
    expect(await res3.text()).toBe('x');
  });

  it('turns a backend failure while reading a small body into a body that fails', async () => {
    const pass = new PassThrough();
    setTimeout(() => pass.destroy(new Error('backend went away')), 5);
    pass.write('par');
    const res = await relayBody(200, { 'content-length': '10' }, pass);
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
  });
});

describe('readAll', () => {
  it('concatenates chunks, and rejects when the stream errors or closes early', async () => {
    expect((await readAll(source([Buffer.from('a'), Buffer.from('bc')]))).toString()).toBe('abc');
    expect((await readAll(source([]))).length).toBe(0);
    const failing = new PassThrough();
    setImmediate(() => failing.destroy(new Error('boom')));
    await expect(readAll(failing)).rejects.toThrow('boom');
    const closed = new PassThrough();
    setImmediate(() => closed.destroy());
    await expect(readAll(closed)).rejects.toThrow(/closed before its end/);
  });
});

describe('editResponseHeaders', () => {
  it('edits a response the proxy built where it is, keeping the same response and body', async () => {
    const original = new Response(Buffer.from('small'), { status: 201, headers: { 'content-length': '5', 'x-a': '1' } });
    const c = { res: original };
    editResponseHeaders(c, (h) => {
      h.set('x-trans-id', 'tx1');
      h.delete('x-a');
    });
    expect(c.res).toBe(original);
    expect(c.res.headers.get('x-trans-id')).toBe('tx1');
    expect(c.res.headers.has('x-a')).toBe(false);
    expect(await c.res.text()).toBe('small');
  });

  it('answers with a copy when the headers are immutable, status and body kept', async () => {
    // A redirect's headers are immutable, as a fetch() answer's are.
    const original = Response.redirect('http://example.com/x', 307);
    expect(() => original.headers.set('x', 'y')).toThrow(TypeError);
    const c = { res: original };
    editResponseHeaders(c, (h) => h.set('x-trans-id', 'tx2'));
    expect(c.res).not.toBe(original);
    expect(c.res.status).toBe(307);
    expect(c.res.headers.get('location')).toBe('http://example.com/x');
    expect(c.res.headers.get('x-trans-id')).toBe('tx2');
  });

  it('lets other errors through', () => {
    const c = { res: new Response(null) };
    expect(() =>
      editResponseHeaders(c, () => {
        throw new RangeError('boom');
      }),
    ).toThrow(RangeError);
  });
});
