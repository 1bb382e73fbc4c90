/**
 * Deliberate differences between sluice and Swift 2.30 that the differential harness meets, each
 * keyed to its row of the README's "Differences from Swift" table (the row's first words, which
 * test/scripts/differential.test.ts finds in README.md). A case whose every difference is listed
 * here is reported EXPECTED; any other difference fails.
 */
import type { KnownDifference } from './differential-compare';

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  { caseId: 'bad-paths', step: 3, aspects: ['status', 'body', 'header:content-type', 'header:content-length'], what: 'an empty container name is 412 Bad URL, not 500', readmeRow: '`GET /v1/AUTH_test//x` answers 500' },
  { caseId: 'formpost-redirect', step: 0, aspects: ['header-names'], what: "the 303 carries the HTTP layer's Content-Type", readmeRow: "formpost's `303` redirect has no Content-Type" },
  { caseId: 'bulk-extract-bz2', step: 0, aspects: ['status', 'body', 'header:content-type', 'header:content-length', 'header-names'], what: 'tar.bz2 archives are refused', readmeRow: '`extract-archive=tar.bz2`' },
  { caseId: 'staticweb-error-head', step: 0, aspects: ['status', 'reason', 'header-names', 'header:content-type', 'header:content-length', 'header:etag'], what: "a HEAD answered with the error page's status and headers, not Swift's 500", readmeRow: 'staticweb: a HEAD answered with a custom error page' },
  { caseId: 'slo-put-entry-without-path', step: 0, aspects: ['status', 'reason', 'body', 'header:content-length', 'header:content-type', 'header-names'], what: "400 naming the entry, not Swift's 500", readmeRow: 'SLO manifest PUT: an entry with neither' },
  { caseId: 'duplicate-content-length', step: 0, aspects: ['status', 'reason', 'body', 'header-names', 'header:content-type', 'header:content-length', 'header:etag'], what: 'two different Content-Lengths are refused (request smuggling), not served', readmeRow: 'A request with two `Content-Length` headers' },
  { caseId: 'http11-no-host', step: 0, aspects: ['status', 'reason', 'body', 'header-names', 'header:content-type', 'header:content-length'], what: 'HTTP/1.1 without Host is refused, as RFC 9112 requires', readmeRow: 'An HTTP/1.1 request without `Host`' },
  { caseId: 'http11-no-host', step: 1, aspects: ['status', 'reason', 'body', 'header-names', 'header:content-type', 'header:content-length', 'header:etag', 'header:last-modified', 'header:x-timestamp', 'header:accept-ranges'], what: 'HTTP/1.1 without Host is refused, as RFC 9112 requires', readmeRow: 'An HTTP/1.1 request without `Host`' },
  { caseId: 'put-te-identity', step: 0, aspects: ['header-names', 'header:content-type'], what: "refused at the front door with swob's body, without the pipeline's headers", readmeRow: '`Transfer-Encoding` with one coding other than' },
];
