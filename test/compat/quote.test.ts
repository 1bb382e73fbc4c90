/** urllib.parse's quoting as Swift uses it; the expected values are Python 3.11's. */
import { describe, expect, it } from 'vitest';
import { asByteString, byteStringOf, bytesOf } from '../../src/compat/bytes';
import { InvalidUtf8Error, quote, quoteBytes, quotePlus, quotePlusBytes, unquote, unquoteBytes, unquotePlus, unquotePlusBytes, unquoteUtf8 } from '../../src/compat/quote';

describe('quote / quote_plus', () => {
  it('matches urllib.parse.quote', () => {
    expect(quote('/a b/é~_.-')).toBe('/a%20b/%C3%A9~_.-');
    expect(quote('a/b', '')).toBe('a%2Fb');
    expect(quote("!'()*;:@&=+$,/?#[] ")).toBe('%21%27%28%29%2A%3B%3A%40%26%3D%2B%24%2C/%3F%23%5B%5D%20');
  });
  it('matches urllib.parse.quote_plus', () => {
    expect(quotePlus('a b/c+d')).toBe('a+b%2Fc%2Bd');
    expect(quotePlus('a b', '/')).toBe('a+b');
  });
  it('quotes the bytes of a byte string (wsgi_quote), not their UTF-8', () => {
    expect(quoteBytes(bytesOf('/é'))).toBe('/%C3%A9');
    expect(quoteBytes(byteStringOf(Uint8Array.from([0x2f, 0xe9, 0xff])))).toBe('/%E9%FF');
    expect(quotePlusBytes(byteStringOf(Uint8Array.from([0x61, 0x20, 0xe9])))).toBe('a+%E9');
  });
});

describe('unquote / unquote_plus', () => {
  it('decodes UTF-8, replaces invalid bytes, keeps malformed escapes', () => {
    expect(unquote('%C3%A9%zz%')).toBe('é%zz%');
    expect(unquote('%FF')).toBe('\ufffd');
    expect(unquote('%e9é%C3')).toBe('\ufffdé\ufffd');
    expect(unquote('%F0%9F%98%80x%80%80')).toBe('😀x\ufffd\ufffd');
    expect(unquote('%ED%A0%80')).toBe('\ufffd\ufffd\ufffd');
    expect(unquote('a+b%20c')).toBe('a+b c');
    expect(unquotePlus('a+b%2Bc')).toBe('a b+c');
  });
  it('to a byte string (wsgi_unquote): escapes become the bytes they name', () => {
    expect(unquoteBytes(asByteString('%C3%A9'))).toBe('\u00c3\u00a9');
    expect(unquoteBytes(asByteString('\u00e9%41%4'))).toBe('\u00e9A%4');
    expect(unquotePlusBytes(asByteString('a+%2B'))).toBe('a +');
  });
});

describe('unquoteUtf8 (a request path checked as Swift does, 412 otherwise)', () => {
  it('decodes UTF-8 and keeps malformed escapes', () => {
    expect(unquoteUtf8(asByteString('/a/caf%C3%A9'))).toBe('/a/café');
    expect(unquoteUtf8(asByteString('/a/%zz'))).toBe('/a/%zz');
    expect(unquoteUtf8(asByteString('/a/%2F'))).toBe('/a//');
    // Node hands raw non-ASCII bytes of the request line over as latin-1.
    expect(unquoteUtf8(bytesOf('/a/café'))).toBe('/a/café');
  });
  it('rejects invalid UTF-8, NUL (unless internal) and nothing at all', () => {
    expect(() => unquoteUtf8(asByteString('/a/%FF'))).toThrow(InvalidUtf8Error);
    expect(() => unquoteUtf8(asByteString('/a/%00'))).toThrow('Invalid UTF8 or contains NULL');
    expect(unquoteUtf8(asByteString('/a/%00'), true)).toBe('/a/\0');
    expect(() => unquoteUtf8(asByteString('/a/%ED%A0%80'))).toThrow(InvalidUtf8Error); // encoded surrogate
    expect(() => unquoteUtf8(asByteString(''))).toThrow(InvalidUtf8Error);
  });
});
