import { describe, expect, it } from 'vitest';
import { asByteString } from '../../src/compat/bytes';
import { pyStrip, pyStripBytes } from '../../src/compat/py-whitespace';

describe('strip()', () => {
  it('str.strip() removes what str.isspace() calls whitespace', () => {
    expect(pyStrip('\x1c\x85\u3000 a b\t\n')).toBe('a b');
    expect(pyStrip('\ufeffa')).toBe('\ufeffa');
  });
  it('bytes.strip() only the ASCII whitespace bytes', () => {
    expect(pyStripBytes(asByteString(' \t\x0b\x0c\r\na\n'))).toBe('a');
    expect(pyStripBytes(asByteString('\x85a\xa0'))).toBe('\x85a\xa0');
  });
});
