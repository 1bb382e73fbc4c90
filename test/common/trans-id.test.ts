/**
 * Transaction ids as Swift's generate_trans_id writes them: `tx`, 21 hex digits of a random
 * UUID, `-`, the time in 10 hex digits, then the quoted suffix (trans_id_suffix / X-Trans-Id-Extra).
 */
import { describe, expect, it } from 'vitest';
import { generateTransId } from '../../src/common/trans-id';

describe('generateTransId', () => {
  it('is tx + 21 hex digits + - + the hex time, different every time', () => {
    const seen = new Set<string>();
    const before = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 2000; i++) {
      const id = generateTransId('');
      const m = /^tx([0-9a-f]{21})-([0-9a-f]{10})$/.exec(id);
      expect(m, id).not.toBeNull();
      const t = parseInt(m![2]!, 16);
      expect(t).toBeGreaterThanOrEqual(before);
      expect(t).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
      seen.add(m![1]!);
    }
    expect(seen.size).toBe(2000);
  });

  it('uses every hex digit in every position of the random part (the UUID\'s dashes are skipped)', () => {
    const digits = Array.from({ length: 21 }, () => new Set<string>());
    for (let i = 0; i < 3000; i++) [...generateTransId('').slice(2, 23)].forEach((d, k) => digits[k]!.add(d));
    // A v4 UUID fixes its 13th hex digit to 4 and its 17th to one of 8, 9, a, b (the variant):
    // positions 12 and 16 here, as in Swift's uuid4().hex[:21].
    digits.forEach((set, k) => expect(set.size, `position ${k}`).toBe(k === 12 ? 1 : k === 16 ? 4 : 16));
  });

  it('appends the suffix quoted', () => {
    expect(generateTransId('-extra id/é')).toMatch(/^tx[0-9a-f]{21}-[0-9a-f]{10}-extra%20id\/%C3%A9$/);
  });
});
