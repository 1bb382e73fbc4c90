/**
 * swob's Accept.best_match: which of the offered content types an Accept header picks. Each
 * comma-separated range must be `type/subtype` plus `;name=value` parameters (RFC 2616 tokens,
 * quoted strings), else the whole header is invalid; ranges are tried by quality, then exact
 * ranges before ones with a `*`, in header order among equals; the first range that matches any
 * offer (in the order offered) wins. As in swob, matching is case-sensitive, a range of quality 0
 * still matches, and an empty header picks the first offer.
 */
import { PY_SPACE_CLASS, pyStrip } from './py-whitespace';

/** The header cannot be parsed (swob raises ValueError: listings answer 400, bulk ignores it). */
export class InvalidAcceptError extends Error {}

// RFC 2616 section 2.2, as swob writes them.
const TOKEN = '[^()<>@,;:\\\\"/\\[\\]?={}\\x00-\\x20\\x7f]+';
// Python's `.` (in swob's quoted_pair) is anything but a newline.
const QUOTED_STRING = '"(?:[^"\\\\]|\\\\[^\\n])*"';
const S = `${PY_SPACE_CLASS}*`;
const EXTENSION = `(?:${S};${S}(?:${TOKEN})${S}=${S}(?:${TOKEN}|${QUOTED_STRING}))`;
// Python's `$` also matches before a final newline.
const RANGE = new RegExp(`^${S}(${TOKEN})/(${TOKEN})(${EXTENSION}*?${S})\\n?$`);

/** Python's float() on a q value: decimal literals with `_` between digits, inf and nan. */
const PY_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?|\d(?:_?\d)*\.|inf(?:inity)?|nan)$/i;

function pyFloat(text: string): number {
  const t = pyStrip(text);
  if (!PY_FLOAT.test(t)) throw new InvalidAcceptError('Invalid accept header');
  const lower = t.toLowerCase().replace(/_/g, '');
  if (lower.endsWith('nan')) return Number.NaN;
  if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(lower);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

interface AcceptRange {
  pattern: RegExp;
  quality: number;
  exact: boolean;
}

function parseRanges(header: string): AcceptRange[] {
  const ranges: AcceptRange[] = [];
  for (const part of header.split(',')) {
    const m = RANGE.exec(part);
    if (!m) throw new InvalidAcceptError('Invalid accept header');
    const [, type, subtype, params] = m as unknown as [string, string, string, string];
    let quality = 1;
    let seenQ = false;
    for (const param of params.split(';').map(pyStrip).filter(Boolean)) {
      const pieces = param.split('=');
      if (pieces.length !== 2) throw new InvalidAcceptError('Invalid accept header');
      if (pyStrip(pieces[0]!) !== 'q') continue;
      if (seenQ) throw new InvalidAcceptError('Multiple "q" params');
      seenQ = true;
      quality = pyFloat(pieces[1]!);
    }
    const glob = (s: string) => (s === '*' ? TOKEN : escapeRegExp(s));
    ranges.push({ pattern: new RegExp(`^${glob(type)}/${glob(subtype)}\\n?$`), quality, exact: type !== '*' && subtype !== '*' });
  }
  // Python's sort(reverse=True) on (quality, exact) keeps header order among equals.
  return ranges.sort((a, b) => (a.quality === b.quality ? Number(b.exact) - Number(a.exact) : b.quality > a.quality ? 1 : -1));
}

/** The offer the header picks, or undefined when none matches; throws InvalidAcceptError. */
export function bestMatch(header: string | undefined, offers: readonly string[]): string | undefined {
  const ranges = header ? parseRanges(header) : [];
  if (ranges.length === 0) return offers[0];
  for (const { pattern } of ranges) for (const offer of offers) if (pattern.test(offer)) return offer;
  return undefined;
}
