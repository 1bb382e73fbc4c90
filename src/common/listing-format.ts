/**
 * Account and container listing formats (swift.common.middleware.listing_formats):
 * content negotiation from `format=` or `Accept`, and rendering of JSON listings as
 * JSON, XML or plain text.
 */
import { pyJsonDumps } from '../compat/json';
import { escapeXmlAttr, escapeXmlText } from '../compat/xml';
import { asByteString } from '../compat/bytes';
import { swobParams, urlencode } from '../compat/query';

export type ListingContentType = 'text/plain' | 'application/json' | 'application/xml' | 'text/xml';

const FORMAT_TO_TYPE: Record<string, ListingContentType> = {
  plain: 'text/plain',
  json: 'application/json',
  xml: 'application/xml',
};

const OFFERS: ListingContentType[] = ['text/plain', 'application/json', 'application/xml', 'text/xml'];

export class NotAcceptableError extends Error {}
export class BadAcceptError extends Error {}

interface AcceptRange {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string): AcceptRange[] {
  const ranges: AcceptRange[] = [];
  for (const part of header.split(',')) {
    const trimmed = part.trim();
    if (!trimmed) continue;
    const [media, ...params] = trimmed.split(';').map((s) => s.trim());
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\/([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.exec(media!);
    if (!m) throw new BadAcceptError('Invalid Accept header');
    let q = 1;
    for (const p of params) {
      const pm = /^q\s*=\s*([0-9.]+)$/i.exec(p);
      if (pm) {
        q = Number(pm[1]);
        if (!Number.isFinite(q) || q < 0 || q > 1) throw new BadAcceptError('Invalid Accept header');
      }
    }
    ranges.push({ type: m[1]!.toLowerCase(), subtype: m[2]!.toLowerCase(), q });
  }
  return ranges;
}

/**
 * The listing content type for a request: `format=` (json, xml, plain; anything else means
 * plain) wins over `Accept`; with neither, text/plain. Throws NotAcceptableError when the Accept
 * header matches none of the offers (Swift: 406) and BadAcceptError when it cannot be parsed
 * (Swift: 400 "Invalid Accept header").
 */
export function listingContentType(format: string | null | undefined, accept: string | undefined): ListingContentType {
  if (format) return FORMAT_TO_TYPE[format.toLowerCase()] ?? 'text/plain';
  if (!accept) return 'text/plain';
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return 'text/plain';
  let best: ListingContentType | undefined;
  let bestQ = 0;
  let bestSpecificity = -1;
  for (const offer of OFFERS) {
    const [type, subtype] = offer.split('/') as [string, string];
    let q = -1;
    let specificity = -1;
    for (const r of ranges) {
      const matches = (r.type === '*' || r.type === type) && (r.subtype === '*' || r.subtype === subtype);
      if (!matches) continue;
      const spec = (r.type === '*' ? 0 : 1) + (r.subtype === '*' ? 0 : 1);
      if (spec > specificity) {
        specificity = spec;
        q = r.q;
      }
    }
    if (q > bestQ || (q === bestQ && q > 0 && specificity > bestSpecificity)) {
      best = offer;
      bestQ = q;
      bestSpecificity = specificity;
    }
  }
  if (!best) throw new NotAcceptableError();
  return best;
}

export interface AccountListingEntry {
  name: string;
  count: number;
  bytes: number;
  last_modified: string;
}

export interface ContainerListingEntry {
  name: string;
  hash: string;
  bytes: number;
  content_type: string;
  last_modified: string;
  [extra: string]: unknown;
}

export interface SubdirEntry {
  subdir: string;
}

export type ListingEntry = AccountListingEntry | ContainerListingEntry | SubdirEntry;

function isSubdir(e: ListingEntry): e is SubdirEntry {
  return 'subdir' in e;
}

const ACCOUNT_FIELDS = ['name', 'count', 'bytes', 'last_modified'] as const;
const CONTAINER_FIELDS = ['name', 'hash', 'bytes', 'content_type', 'last_modified'] as const;

function fields(e: Record<string, unknown>, names: readonly string[]): string {
  return names.map((k) => `<${k}>${escapeXmlText(String(e[k] ?? ''))}</${k}>`).join('');
}

/**
 * Renders a listing in the negotiated type, byte for byte as Swift's listing_formats does:
 * account XML puts each entry on its own line and writes subdirs as empty elements; container
 * XML has no line breaks and gives subdirs a <name> child. Plain text is one name per line.
 */
export function renderListing(
  entries: ListingEntry[],
  type: ListingContentType,
  kind: 'account' | 'container',
  name: string,
): string {
  if (type === 'application/json') return pyJsonDumps(entries);
  if (type === 'text/plain') return entries.map((e) => (isSubdir(e) ? e.subdir : e.name) + '\n').join('');
  const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
  if (kind === 'account') {
    const items = entries.map((e) =>
      isSubdir(e) ? `<subdir name="${escapeXmlAttr(e.subdir)}" />` : `<container>${fields(e as unknown as Record<string, unknown>, ACCOUNT_FIELDS)}</container>`,
    );
    return `${head}<account name="${escapeXmlAttr(name)}">\n${items.map((i) => i + '\n').join('')}</account>`;
  }
  if (entries.length === 0) return `${head}<container name="${escapeXmlAttr(name)}" />`;
  const items = entries.map((e) =>
    isSubdir(e)
      ? `<subdir name="${escapeXmlAttr(e.subdir)}"><name>${escapeXmlText(e.subdir)}</name></subdir>`
      : `<object>${fields(e as unknown as Record<string, unknown>, CONTAINER_FIELDS)}</object>`,
  );
  return `${head}<container name="${escapeXmlAttr(name)}">${items.join('')}</container>`;
}

/**
 * Set by the account controller on the JSON listing it makes up for a missing account under
 * account_autocreate, so listing_formats knows the listing is not a backend's.
 */
export const FAKE_LISTING_HEADER = 'x-backend-fake-account-listing';

/**
 * Account and container GETs always ask the backend for JSON (listing_formats renders what the
 * client asked for): the raw query with `format=json`, replacing any format the client gave.
 * As listing_formats sets `req.params`, the query is re-encoded from swob's params (a repeated
 * name keeps its last value).
 */
export function forceJsonFormat(rawQuery: string): string {
  const params = swobParams(asByteString(rawQuery));
  params.set('format', asByteString('json'));
  return urlencode(params);
}
