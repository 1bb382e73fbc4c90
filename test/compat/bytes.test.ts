/**
 * Byte strings (what WSGI and Node hand over as latin-1) and their conversions to and from text,
 * with Python's UTF-8 error handlers. Metadata bytes are kept as text with surrogateescape (as
 * Swift's diskfile does), so any bytes a client sent come back unchanged, valid UTF-8 or not.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { asByteString, bufferOf, byteStringOf, bytesOf, checkUtf8, isUtf8, textIfUtf8, textOf, UnicodeDecodeError } from '../../src/compat/bytes';

const bytes = (...b: number[]) => byteStringOf(Uint8Array.from(b));

describe('textOf / bytesOf', () => {
  it('decodes valid UTF-8 to text and encodes it back', () => {
    const value = byteStringOf(Buffer.from('Zürich 日本 😀', 'utf8'));
    for (const errors of ['strict', 'replace', 'surrogateescape'] as const) expect(textOf(value, errors)).toBe('Zürich 日本 😀');
    expect(bytesOf('Zürich 日本 😀')).toBe(value);
    expect(isUtf8(value)).toBe(true);
  });

  it('keeps bytes that are not UTF-8 as lone surrogates U+DC80..U+DCFF (surrogateescape)', () => {
    // b'A\xff\xc3(\xed\xa0\x80\xc3\xa9'.decode('utf-8', 'surrogateescape') in Python 3.11
    const value = bytes(0x41, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xc3, 0xa9);
    expect(textOf(value, 'surrogateescape')).toBe('A\udcff\udcc3(\udced\udca0\udc80é');
    expect(bytesOf(textOf(value, 'surrogateescape'))).toBe(value);
    expect(isUtf8(value)).toBe(false);
    // What the object server stores is JSON: lone surrogates survive it as \u escapes.
    expect(JSON.parse(JSON.stringify(textOf(value, 'surrogateescape')))).toBe(textOf(value, 'surrogateescape'));
  });

  it("replaces invalid sequences as Python's 'replace' does", () => {
    expect(textOf(bytes(0x41, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xc3, 0xa9), 'replace')).toBe('A\ufffd\ufffd(\ufffd\ufffd\ufffdé');
    expect(textOf(bytes(0xe2, 0x82, 0x41, 0xf0, 0x9f, 0x98), 'replace')).toBe('\ufffdA\ufffd');
    expect(textOf(bytes(0xe2, 0x82, 0x41, 0xf0, 0x9f, 0x98), 'surrogateescape')).toBe('\udce2\udc82A\udcf0\udc9f\udc98');
  });

  it("throws UnicodeDecodeError with 'strict'", () => {
    expect(() => textOf(bytes(0xc3), 'strict')).toThrow(UnicodeDecodeError);
    expect(textOf(asByteString('plain ascii'), 'strict')).toBe('plain ascii');
  });

  it('bytesOf: lone surrogates that are not escaped bytes become U+FFFD', () => {
    expect(bytesOf('\ud800')).toBe(bytesOf('\ufffd'));
    expect(bufferOf(bytesOf('A\udcff\udcc3('))).toEqual(Buffer.from([0x41, 0xff, 0xc3, 0x28]));
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const value = byteStringOf(b);
        expect(bufferOf(value)).toEqual(Buffer.from(b));
        expect(bytesOf(textOf(value, 'surrogateescape'))).toBe(value);
      }),
    );
  });

  it('textIfUtf8 keeps what is not UTF-8 as received', () => {
    expect(textIfUtf8(bytesOf('é'))).toBe('é');
    expect(textIfUtf8(bytes(0xe9))).toBe('\u00e9');
  });
});

describe("checkUtf8 (Swift's check_utf8 on a WSGI string)", () => {
  it('wants non-empty UTF-8 without NUL, NUL allowed when internal', () => {
    expect(checkUtf8(bytesOf('café'))).toBe(true);
    expect(checkUtf8(asByteString(''))).toBe(false);
    expect(checkUtf8(asByteString('a\0b'))).toBe(false);
    expect(checkUtf8(asByteString('a\0b'), true)).toBe(true);
    expect(checkUtf8(bytes(0xff))).toBe(false);
    expect(checkUtf8(bytes(0xed, 0xa0, 0x80))).toBe(false); // an encoded surrogate
  });
});
