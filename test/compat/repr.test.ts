import { describe, expect, it } from 'vitest';
import { pyRepr } from '../../src/compat/repr';

describe('repr(str)', () => {
  it("picks the quote and escapes as Python 3.11 does", () => {
    expect(pyRepr("it's")).toBe(`"it's"`);
    expect(pyRepr('a"b\'c')).toBe(`'a"b\\'c'`);
    expect(pyRepr('\x85\xa0\xad\u200b\u2028 é日😀\t\x7f')).toBe("'\\x85\\xa0\\xad\\u200b\\u2028 é日😀\\t\\x7f'");
    expect(pyRepr('\u{e0001}')).toBe("'\\U000e0001'");
    expect(pyRepr('\u0378')).toBe("'\\u0378'");
  });
});
