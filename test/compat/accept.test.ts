// swob's Accept.best_match (src/compat/accept.ts) against Swift's own, on 2,500 headers recorded
// from Debian's python3-swift by fixtures/swob-accept.py, plus the cases listings rely on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bestMatch, InvalidAcceptError } from '../../src/compat/accept';
import { BadAcceptError, listingContentType, NotAcceptableError } from '../../src/common/listing-format';

type Recorded = [header: string, offers: string[], result: string | null | { error: true }];
const cases = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'swob-accept.json'), 'utf8')) as Recorded[];

function ours(header: string, offers: string[]): string | null | { error: true } {
  try {
    return bestMatch(header, offers) ?? null;
  } catch (err) {
    if (err instanceof InvalidAcceptError) return { error: true };
    throw err;
  }
}

describe('bestMatch', () => {
  it('agrees with swob on every recorded header', () => {
    expect(cases.length).toBe(2500);
    const differences = cases.filter(([header, offers, result]) => JSON.stringify(ours(header, offers)) !== JSON.stringify(result));
    expect(differences.map(([h, o, r]) => ({ header: h, offers: o, swob: r, sluice: ours(h, o) }))).toEqual([]);
  });

  it('orders by quality, then exact ranges before globs, then header order', () => {
    const offers = ['text/plain', 'application/json', 'application/xml', 'text/xml'];
    expect(bestMatch('application/json;q=0.5, text/xml', offers)).toBe('text/xml');
    expect(bestMatch('*/*, application/xml', offers)).toBe('application/xml');
    expect(bestMatch('text/*;q=0.9, application/json;q=0.9', offers)).toBe('application/json');
    expect(bestMatch(undefined, offers)).toBe('text/plain');
    // As in swob: case-sensitive, and a range of quality 0 still matches.
    expect(bestMatch('Application/JSON', offers)).toBeUndefined();
    expect(bestMatch('application/json;q=0', offers)).toBe('application/json');
    expect(() => bestMatch('text/plain;q=0.5;q=0.1', offers)).toThrow(InvalidAcceptError);
    expect(() => bestMatch('text', offers)).toThrow(InvalidAcceptError);
  });
});

describe('listingContentType (get_listing_content_type)', () => {
  it('lets format= replace the Accept header, and maps failures to 400 and 406', () => {
    expect(listingContentType('json', 'text/plain')).toBe('application/json');
    expect(listingContentType('XML', undefined)).toBe('application/xml');
    expect(listingContentType('yaml', 'application/json')).toBe('text/plain');
    expect(listingContentType(undefined, 'text/xml;q=0.8, application/json')).toBe('application/json');
    expect(() => listingContentType(undefined, 'image/png')).toThrow(NotAcceptableError);
    expect(() => listingContentType(undefined, 'text/plain;q')).toThrow(BadAcceptError);
  });
});
