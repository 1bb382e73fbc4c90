/**
 * Header value encoding shared by the storage servers: metadata bytes are kept as text with
 * Python's surrogateescape (as Swift's diskfile does), so any bytes a client sent come back
 * unchanged, valid UTF-8 or not.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { headerBytes, headerUtf8, isUtf8Header } from '../../../servers/common/http';

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('headerUtf8 / headerBytes', () => {
  it('decodes valid UTF-8 to text and encodes it back', () => {
    const value = latin1(Buffer.from('Zürich 日本 😀', 'utf8'));
    expect(headerUtf8(value)).toBe('Zürich 日本 😀');
    expect(headerBytes('Zürich 日本 😀')).toBe(value);
    expect(isUtf8Header(value)).toBe(true);
  });

  it('keeps bytes that are not UTF-8 as lone surrogates U+DC80..U+DCFF (surrogateescape)', () => {
    const value = latin1(Uint8Array.from([0x41, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xc3, 0xa9]));
    expect(headerUtf8(value)).toBe('A\udcff\udcc3(\udced\udca0\udc80é');
    expect(headerBytes(headerUtf8(value))).toBe(value);
    expect(isUtf8Header(value)).toBe(false);
    // What the object server stores is JSON: lone surrogates survive it as \u escapes.
    expect(JSON.parse(JSON.stringify(headerUtf8(value)))).toBe(headerUtf8(value));
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const value = latin1(bytes);
        expect(headerBytes(headerUtf8(value))).toBe(value);
      }),
    );
  });
});
