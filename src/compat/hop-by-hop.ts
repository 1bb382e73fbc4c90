/**
 * Hop-by-hop headers (RFC 7230 §6.1 and the legacy ones of RFC 2616 §13.5.1): they describe one
 * connection, so a proxy never passes them on. Swift's proxy builds each client response itself
 * (swob) and its WSGI server writes its own Connection and Transfer-Encoding; a backend's are
 * never relayed.
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** True for a hop-by-hop header name (lower case). */
export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP_HEADERS.has(name);
}
