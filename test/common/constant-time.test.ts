import { describe, expect, it } from 'vitest';
import { constantTimeEqual, matchesSecret } from '../../src/common/constant-time';

describe('constantTimeEqual (streq_const_time)', () => {
  it('is equality of the encoded bytes', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual('é', '\u00c3\u00a9')).toBe(false);
    expect(constantTimeEqual('\u00e9', '\u00e9', 'latin1')).toBe(true);
  });
});

describe('matchesSecret', () => {
  const secret = Buffer.from('testing');
  it.each([
    ['testing', true],
    ['testinG', false],
    ['test', false],
    ['testingtesting', false],
    ['testingt', false],
    ['t', false],
    ['', false],
    ['tésting', false],
  ])('%j → %s', (presented, want) => {
    expect(matchesSecret(presented, secret)).toBe(want);
  });
  it('takes UTF-8 secrets, and never matches an empty one', () => {
    expect(matchesSecret('clé', Buffer.from('clé'))).toBe(true);
    expect(matchesSecret('cle', Buffer.from('clé'))).toBe(false);
    expect(matchesSecret('', Buffer.alloc(0))).toBe(false);
    expect(matchesSecret('x', Buffer.alloc(0))).toBe(false);
  });
});
