import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidTimestampError, Timestamp } from '../../src/common/timestamp';

describe('Timestamp', () => {
  it('formats normal and internal forms as Swift does', () => {
    const t = Timestamp.parse('1700000000.12345');
    expect(t.normal).toBe('1700000000.12345');
    expect(t.internal).toBe('1700000000.12345');
    const o = Timestamp.parse('1700000000.12345_000000000000000a');
    expect(o.internal).toBe('1700000000.12345_000000000000000a');
    expect(o.offset).toBe(10n);
    expect(Timestamp.parse('5').normal).toBe('0000000005.00000');
  });

  it('rounds extra decimals to 5 places', () => {
    expect(Timestamp.parse('1.000004').normal).toBe('0000000001.00000');
    expect(Timestamp.parse('1.000005').normal).toBe('0000000001.00001');
    expect(Timestamp.parse('1.5e3').normal).toBe('0000001500.00000');
  });

  it('rejects what Swift rejects', () => {
    for (const bad of ['', 'abc', '-1', '1.2.3', '12345678901', '1_xyz', 'NaN', 'inf']) {
      expect(() => Timestamp.parse(bad), bad).toThrow(InvalidTimestampError);
    }
    expect(() => Timestamp.parse(undefined)).toThrow(InvalidTimestampError);
  });

  it('orders by time, then offset', () => {
    const a = Timestamp.parse('1.00001');
    const b = Timestamp.parse('1.00001_0000000000000001');
    const c = Timestamp.parse('1.00002');
    expect(a.compare(b)).toBe(-1);
    expect(b.compare(c)).toBe(-1);
    expect(c.newerThan(a)).toBe(true);
    expect(a.newerThan(undefined)).toBe(true);
  });

  it('internal strings sort in time order (databases compare them as text)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_999_999_999_99999 }), fc.integer({ min: 0, max: 9_999_999_999_99999 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (x, y, off) => {
        const a = new Timestamp(x, off);
        const b = new Timestamp(y);
        const byString = a.internal < b.internal ? -1 : a.internal > b.internal ? 1 : 0;
        expect(byString).toBe(a.compare(b));
      }),
    );
  });

  it('renders ISO 8601 with microseconds for listings and HTTP dates rounded up', () => {
    const t = Timestamp.parse('1700000000.12345');
    expect(t.isoformat).toBe('2023-11-14T22:13:20.123450');
    expect(t.httpDate).toBe('Tue, 14 Nov 2023 22:13:21 GMT');
  });

  it('reads the normal form as the general parser does, and writes ISO dates whatever the order of calls', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_999_999_999_99999 }), fc.integer({ min: 0, max: 9_999_999_999_99999 }), (x, y) => {
        for (const ticks of [x, y, x]) {
          const t = new Timestamp(ticks);
          // A leading space takes the general path: both must agree.
          expect(Timestamp.parse(t.normal).ticks).toBe(ticks);
          expect(Timestamp.parse(` ${t.normal}`).ticks).toBe(ticks);
          const iso = new Date(Math.floor(ticks / 100)).toISOString().slice(0, 19);
          expect(t.isoformat).toBe(`${iso}.${String((ticks % 100_000) * 10).padStart(6, '0')}`);
        }
      }),
    );
  });
});
