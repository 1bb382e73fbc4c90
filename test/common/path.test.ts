import { describe, expect, it } from 'vitest';
import { decodePathStrict, InvalidPathError, InvalidUtf8Error, pyQuote, splitPath } from '../../src/common/path';

describe('splitPath (swift.common.utils.split_path)', () => {
  it('splits into the requested number of segments', () => {
    expect(splitPath('/a', 1)).toEqual(['a']);
    expect(splitPath('/a', 1, 2)).toEqual(['a', undefined]);
    expect(splitPath('/a/c', 1, 2)).toEqual(['a', 'c']);
    expect(splitPath('/a/c/o/r', 1, 3, true)).toEqual(['a', 'c', 'o/r']);
    expect(splitPath('/a/c/', 2)).toEqual(['a', 'c']);
    expect(splitPath('/d/p/a/c/o//x', 5, 5, true)).toEqual(['d', 'p', 'a', 'c', 'o//x']);
  });

  it('rejects bad paths with Swift message', () => {
    expect(() => splitPath('', 1)).toThrow(InvalidPathError);
    expect(() => splitPath('a', 1)).toThrow('Invalid path: a');
    expect(() => splitPath('/a/c', 1)).toThrow('Invalid path: /a/c');
    expect(() => splitPath('//c', 1, 2)).toThrow('Invalid path: //c');
    expect(() => splitPath('/a/c/o', 1, 2)).toThrow(InvalidPathError);
    expect(() => splitPath('/d/p/é', 4)).toThrow('Invalid path: /d/p/%C3%A9');
  });
});

describe('decodePathStrict', () => {
  it('decodes UTF-8 and keeps malformed escapes', () => {
    expect(decodePathStrict('/a/caf%C3%A9')).toBe('/a/café');
    expect(decodePathStrict('/a/%zz')).toBe('/a/%zz');
    expect(decodePathStrict('/a/%2F')).toBe('/a//');
  });
  it('rejects invalid UTF-8 and NUL', () => {
    expect(() => decodePathStrict('/a/%FF')).toThrow(InvalidUtf8Error);
    expect(() => decodePathStrict('/a/%00')).toThrow(InvalidUtf8Error);
    expect(() => decodePathStrict('/a/%ED%A0%80')).toThrow(InvalidUtf8Error); // encoded surrogate
  });
});

describe('pyQuote', () => {
  it('matches urllib.parse.quote', () => {
    expect(pyQuote('/a b/é~_.-')).toBe('/a%20b/%C3%A9~_.-');
    expect(pyQuote('a/b', '')).toBe('a%2Fb');
  });
});
