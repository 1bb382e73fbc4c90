/**
 * SegmentedBody (Swift's SegmentedIterable) against a scripted application below it: what each
 * segment GET asks for, the checks made on each answer, and when the body fails (before the
 * first byte: an error the caller turns into 409/503; after it: the stream errors).
 */
import { createHash } from 'node:crypto';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Identity, Subrequest, SubrequestOptions } from '../../../src/proxy/subrequest';
import { ListingError, SegmentedBody, SegmentError, SegmentServerError, type Piece } from '../../../src/middleware/large-object/segments';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const identity = {} as Identity;
const logger = pino({ level: 'silent' });

/** Objects by path; `lie` makes an object announce another ETag than its bytes have. */
function fakeApp(objects: Record<string, { body: string; status?: number; etag?: string; chunks?: number }>, seen: SubrequestOptions[] = []): Subrequest {
  return async (_from, opts) => {
    seen.push(opts);
    const path = opts.path.split('?')[0]!;
    const o = objects[path];
    if (!o) return new Response('<html><h1>Not Found</h1></html>', { status: 404 });
    if (o.status && o.status >= 300) return new Response('boom', { status: o.status });
    const range = (opts.headers as Record<string, string>).range;
    let body = o.body;
    let status = 200;
    if (range) {
      const [, s, e] = /^bytes=(\d+)-(\d*)$/.exec(range)!;
      body = o.body.slice(Number(s), e ? Number(e) + 1 : undefined);
      status = 206;
    }
    const n = o.chunks ?? 1;
    const size = Math.ceil(body.length / n) || 1;
    const parts = Array.from({ length: n }, (_, i) => body.slice(i * size, (i + 1) * size)).filter((p) => p.length);
    const stream = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        const p = parts.shift();
        if (p === undefined) ctrl.close();
        else ctrl.enqueue(Buffer.from(p));
      },
    });
    return new Response(stream, { status, headers: { etag: o.etag ?? md5(o.body), 'content-length': String(body.length) } });
  };
}

async function read(body: SegmentedBody): Promise<{ text: string; error: unknown }> {
  const reader = body.stream().getReader();
  let text = '';
  for (;;) {
    try {
      const { done, value } = await reader.read();
      if (done) return { text, error: undefined };
      text += Buffer.from(value).toString();
    } catch (error) {
      return { text, error };
    }
  }
}

function segmented(app: Subrequest, pieces: Piece[] | AsyncIterable<Piece>, extra: { bodyLength?: number; maxGetTime?: number } = {}): SegmentedBody {
  return new SegmentedBody(pieces, { app, identity, token: 'tok', agent: 'ua SLO MultipartGET', name: '/v1/a/c/m', maxGetTime: extra.maxGetTime ?? 86400, bodyLength: extra.bodyLength, logger });
}

describe('SegmentedBody', () => {
  it('streams segments and data in order, asking each segment with its range', async () => {
    const seen: SubrequestOptions[] = [];
    const app = fakeApp({ '/v1/a/c/one': { body: 'abcdef', chunks: 3 }, '/v1/a/c/two': { body: 'ghij' } }, seen);
    const body = segmented(app, [{ path: '/v1/a/c/one', etag: md5('abcdef'), size: 6 }, Buffer.from('--'), { path: '/v1/a/c/two', size: 4, first: 1, last: 2 }, { path: '/v1/a/c/two', first: 2 }], { bodyLength: 12 });
    await body.validateFirst();
    expect(await read(body)).toEqual({ text: 'abcdef--hiij', error: undefined });
    expect(seen.map((s) => [s.method, s.path, (s.headers as Record<string, string>).range, (s.headers as Record<string, string>)['x-auth-token'], s.agent])).toEqual([
      ['GET', '/v1/a/c/one?multipart-manifest=get', undefined, 'tok', 'ua SLO MultipartGET'],
      ['GET', '/v1/a/c/two?multipart-manifest=get', 'bytes=1-2', 'tok', 'ua SLO MultipartGET'],
      ['GET', '/v1/a/c/two?multipart-manifest=get', 'bytes=2-', 'tok', 'ua SLO MultipartGET'],
    ]);
  });

  it('fails before the first byte for a missing, changed or failing first segment', async () => {
    const app = fakeApp({ '/v1/a/c/x': { body: 'xx' }, '/v1/a/c/err': { body: '', status: 503 } });
    await expect(segmented(app, [{ path: '/v1/a/c/nope' }]).validateFirst()).rejects.toThrow(SegmentError);
    await expect(segmented(app, [{ path: '/v1/a/c/nope' }]).validateFirst()).rejects.toThrow('While processing manifest /v1/a/c/m, got 404 (<html><h1>Not Found</h1></html>) while retrieving /v1/a/c/nope');
    await expect(segmented(app, [{ path: '/v1/a/c/x', etag: md5('yy') }]).validateFirst()).rejects.toThrow('Object segment no longer valid');
    await expect(segmented(app, [{ path: '/v1/a/c/x', size: 3 }]).validateFirst()).rejects.toThrow(SegmentError);
    await expect(segmented(app, [{ path: '/v1/a/c/err' }]).validateFirst()).rejects.toThrow(SegmentServerError);
    async function* broken(): AsyncGenerator<Piece> {
      yield* [];
      throw new ListingError('listing failed');
    }
    await expect(segmented(app, broken()).validateFirst()).rejects.toThrow(ListingError);
    // Empty segments before the first byte are fine; so is an empty object.
    const empty = segmented(fakeApp({ '/v1/a/c/e': { body: '' } }), [{ path: '/v1/a/c/e', size: 0 }]);
    await empty.validateFirst();
    expect(await read(empty)).toEqual({ text: '', error: undefined });
  });

  it('cuts the body after the first byte: missing segment, bad MD5, wrong total', async () => {
    const app = fakeApp({ '/v1/a/c/x': { body: 'xx' }, '/v1/a/c/liar': { body: 'abcd', etag: md5('ABCD'), chunks: 2 } });
    const missing = segmented(app, [{ path: '/v1/a/c/x' }, { path: '/v1/a/c/nope' }]);
    await missing.validateFirst();
    const m = await read(missing);
    expect(m.text).toBe('xx');
    expect(m.error).toBeInstanceOf(SegmentError);
    // The bytes went out before the MD5 could be checked; the body then fails.
    const liar = segmented(app, [{ path: '/v1/a/c/liar' }]);
    await liar.validateFirst();
    const l = await read(liar);
    expect(l.text).toBe('abcd');
    expect(String(l.error)).toContain(`Bad MD5 checksum for /v1/a/c/liar as part of /v1/a/c/m: headers had ${md5('ABCD')}, but object MD5 was actually ${md5('abcd')}`);
    const short = segmented(app, [{ path: '/v1/a/c/x' }], { bodyLength: 3 });
    await short.validateFirst();
    expect(String((await read(short)).error)).toContain('Expected another 1 bytes for /v1/a/c/m; closing connection');
    const long = segmented(app, [{ path: '/v1/a/c/x' }, { path: '/v1/a/c/x' }], { bodyLength: 3 });
    await long.validateFirst();
    const lr = await read(long);
    expect(lr.text).toBe('xxx');
    expect(String(lr.error)).toContain('Too many bytes for /v1/a/c/m');
  });

  it('stops after max_get_time', async () => {
    const app = fakeApp({ '/v1/a/c/x': { body: 'xx' } });
    const body = segmented(app, [{ path: '/v1/a/c/x' }, { path: '/v1/a/c/x' }, { path: '/v1/a/c/x' }], { maxGetTime: -1 });
    await body.validateFirst();
    const r = await read(body);
    expect(r.text).toBe('xx');
    expect(String(r.error)).toContain('While processing manifest /v1/a/c/m, max LO GET time of -1s exceeded');
  });

  it('lets go of the segment being read when the client goes away', async () => {
    let cancelled = false;
    const app: Subrequest = async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull: (ctrl) => ctrl.enqueue(Buffer.from('z')),
          cancel: () => {
            cancelled = true;
          },
        }),
        { status: 200 },
      );
    const body = segmented(app, [{ path: '/v1/a/c/endless' }]);
    await body.validateFirst();
    const reader = body.stream().getReader();
    await reader.read();
    await reader.cancel();
    await new Promise((r) => setTimeout(r, 20));
    expect(cancelled).toBe(true);
  });
});
