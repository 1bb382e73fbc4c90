import { describe, expect, it } from 'vitest';
import { InvalidPathError, splitPath } from '../../src/common/path';

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
