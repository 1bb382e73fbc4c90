import { describe, expect, it } from 'vitest';
import { conditionalStatus, multipartLength, parseRange, rangesForLength } from '../../../servers/object/ranges';
import { metaFilename, parseFilename, selectFiles } from '../../../servers/object/diskfile';
import { Timestamp } from '../../../src/common/timestamp';

describe('parseRange / rangesForLength (swob.Range)', () => {
  it('parses valid specs and rejects invalid headers entirely', () => {
    expect(parseRange('bytes=0-1,5-,-3')).toEqual([{ start: 0, end: 1 }, { start: 5, end: null }, { start: null, end: 3 }]);
    expect(parseRange('bytes = 1 - 2')).toEqual([{ start: 1, end: 2 }]);
    for (const bad of ['', 'bits=0-1', 'bytes=5-3', 'bytes=-', 'bytes=45', 'bytes=a-b', 'bytes=1--0']) expect(parseRange(bad)).toBeNull();
  });

  it('computes byte ranges like ranges_for_length', () => {
    expect(rangesForLength(parseRange('bytes=0-4'), 10)).toEqual([[0, 5]]);
    expect(rangesForLength(parseRange('bytes=8-20'), 10)).toEqual([[8, 10]]);
    expect(rangesForLength(parseRange('bytes=-20'), 10)).toEqual([[0, 10]]);
    expect(rangesForLength(parseRange('bytes=-0'), 10)).toEqual([]);
    expect(rangesForLength(parseRange('bytes=10-'), 10)).toEqual([]);
    expect(rangesForLength(parseRange('bytes=10-,2-3'), 10)).toEqual([[2, 4]]);
    expect(rangesForLength(null, 10)).toBeNull();
  });

  it('refuses egregious range sets', () => {
    const many = 'bytes=' + Array.from({ length: 51 }, (_, i) => `${i}-${i}`).join(',');
    expect(rangesForLength(parseRange(many), 100)).toEqual([]);
    expect(rangesForLength(parseRange('bytes=0-5,1-6,2-7'), 100)).toEqual([]);
    const desc = 'bytes=' + Array.from({ length: 8 }, (_, i) => `${(8 - i) * 2}-${(8 - i) * 2}`).join(',');
    expect(rangesForLength(parseRange(desc), 100)).toEqual([]);
  });

  it('multipart length matches the framing', () => {
    const n = multipartLength('b'.repeat(32), 'text/plain', [[0, 2], [5, 8]], 20);
    const expected = (`--${'b'.repeat(32)}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/20\r\n\r\n` + 'xx\r\n').length + (`--${'b'.repeat(32)}\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-7/20\r\n\r\n` + 'xxx\r\n').length + 36;
    expect(n).toBe(expected);
  });
});

describe('conditionalStatus', () => {
  it('follows swob precedence', () => {
    expect(conditionalStatus({ status: 200, etag: 'e', ifNoneMatch: '"e"', ifMatch: 'x' })).toBe(304);
    expect(conditionalStatus({ status: 200, etag: 'e', ifMatch: '"x", "y"' })).toBe(412);
    expect(conditionalStatus({ status: 200, etag: 'e', ifMatch: '"x", "e"' })).toBeUndefined();
    expect(conditionalStatus({ status: 404, ifMatch: '*' })).toBe(412);
    expect(conditionalStatus({ status: 200, etag: 'e', lastModified: 1000, ifModifiedSince: new Date(1000_000).toUTCString() })).toBe(304);
    expect(conditionalStatus({ status: 200, etag: 'e', lastModified: 1001, ifModifiedSince: new Date(1000_000).toUTCString() })).toBeUndefined();
    expect(conditionalStatus({ status: 200, etag: 'e', lastModified: 1001, ifUnmodifiedSince: new Date(1000_000).toUTCString() })).toBe(412);
  });
});

describe('on-disk file selection (get_ondisk_files)', () => {
  const t = (s: number) => Timestamp.fromSeconds(s).internal;
  it('names .meta files with the content-type delta', () => {
    expect(metaFilename(Timestamp.fromSeconds(10), Timestamp.fromSeconds(10))).toBe(`${t(10)}+0.meta`);
    expect(metaFilename(Timestamp.fromSeconds(10), Timestamp.fromSeconds(9))).toBe(`${t(10)}-186a0.meta`);
    expect(parseFilename(`${t(10)}-186a0.meta`)!.ctypeTimestamp!.internal).toBe(t(9));
    expect(parseFilename('junk.data')).toBeUndefined();
  });

  it('newest tombstone hides older data; newer data wins over older tombstone', () => {
    const a = selectFiles([`${t(1)}.data`, `${t(2)}.ts`, `${t(3)}.meta`]);
    expect(a.data).toBeUndefined();
    expect(a.ts!.filename).toBe(`${t(2)}.ts`);
    expect(a.obsolete.map((f) => f.filename)).toEqual([`${t(1)}.data`]);
    expect(a.possibleReclaim.map((f) => f.filename)).toEqual([`${t(3)}.meta`]);
    const b = selectFiles([`${t(1)}.ts`, `${t(2)}.data`, `${t(1)}.data`, `${t(3)}.meta`, `${t(4)}.meta`]);
    expect(b.data!.filename).toBe(`${t(2)}.data`);
    expect(b.meta!.filename).toBe(`${t(4)}.meta`);
    expect(b.obsolete.map((f) => f.filename).sort()).toEqual([`${t(1)}.data`, `${t(1)}.ts`, `${t(3)}.meta`].sort());
  });

  it('keeps an older .meta that carries a newer content-type', () => {
    const s = selectFiles([`${t(1)}.data`, metaFilename(Timestamp.fromSeconds(3), Timestamp.fromSeconds(3)), `${t(4)}.meta`]);
    expect(s.meta!.filename).toBe(`${t(4)}.meta`);
    expect(s.ctype!.filename).toBe(`${t(3)}+0.meta`);
    expect(s.obsolete).toEqual([]);
  });
});
