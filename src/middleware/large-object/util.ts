/** Small helpers slo and dlo share (Swift's request_helpers and swob bits). */
import type { ProxyContext } from '../../proxy/context';
import type { RequestHeaders } from '../../proxy/request-headers';

/** swob.normalize_etag: one pair of surrounding double quotes removed. */
export function normalizeEtag(tag: string | undefined): string | undefined {
  return tag && tag.length > 1 && tag.startsWith('"') && tag.endsWith('"') ? tag.slice(1, -1) : tag;
}

/** csv_append onto a backend header (update_ignore_range_header, update_etag_is_at_header). */
export function appendCsvHeader(headers: RequestHeaders, name: string, value: string): void {
  const prior = headers.get(name);
  headers.set(name, prior ? `${prior},${value}` : value);
}

/** A subrequest's User-Agent: the client's, then what the middleware does (`%(orig)s SLO ...`). */
export function userAgent(c: ProxyContext, suffix: string): string {
  return `${c.get('headers').get('user-agent') ?? ''} ${suffix}`;
}
