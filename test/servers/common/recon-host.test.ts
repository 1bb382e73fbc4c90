import { afterEach, expect, it, vi } from 'vitest';
import { now } from '../../../servers/common/recon-host';

afterEach(() => vi.restoreAllMocks());

/** now() as a number of seconds, between two readings of the wall clock. */
function bracketed(): { before: number; t: number; after: number } {
  const before = Date.now();
  const t = now().value;
  const after = Date.now();
  return { before, t: t * 1000, after };
}

it('answers the wall clock with sub-millisecond digits, within the moments around the call', () => {
  for (let i = 0; i < 200; i++) {
    const { before, t, after } = bracketed();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThan(after + 1);
  }
});

it('stays on the wall clock when the monotonic clock drifts from it', () => {
  now();
  // A process whose monotonic clock has drifted 5 ms (NTP slewed the wall clock meanwhile).
  const real = performance.now.bind(performance);
  vi.spyOn(performance, 'now').mockImplementation(() => real() + 5);
  const fractions = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const { before, t, after } = bracketed();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThan(after + 1);
    fractions.add(Math.round((t % 1) * 1000));
  }
  // Not whole milliseconds: one of those can be earlier than the moment swift-recon sent its
  // request, which it reports as a time difference.
  expect(fractions.size).toBeGreaterThan(5);
});
