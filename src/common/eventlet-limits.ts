/**
 * eventlet.wsgi's limits on a request line, which every Swift server (proxy and storage) runs
 * under: not Swift constraints, so not configurable and not in /info.
 */

/** eventlet's MAX_REQUEST_LINE (its url_length_limit): a request line this long or longer is refused. */
export const MAX_REQUEST_LINE = 8192;

/** eventlet's answer to such a line, byte for byte; the connection is closed after it. */
export const RESPONSE_414 = Buffer.from('HTTP/1.0 414 Request URI Too Long\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', 'latin1');
