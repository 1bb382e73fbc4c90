/**
 * The Session's debug lines, in keystoneauth's shape: `REQ: curl -g -i -X GET "<url>" -H "Name:
 * value" ...` before a request and `RESP: [status] Name: value ...` after, headers sorted, every
 * secret redacted (./redact). Bodies are streamed and never logged, except the JSON of an auth
 * request, which is logged redacted.
 */
import { redactHeader, redactJson, redactUrl } from './redact';

/** A logger: anything with `debug(line)` (console, a pino logger, a test's collector). */
export interface SessionLogger {
  debug(line: string): unknown;
}

function sortedHeaders(headers: Record<string, string>): [string, string][] {
  return Object.entries(headers).sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
}

export function requestLine(method: string, url: string, headers: Record<string, string>, opts: { insecure?: boolean; json?: unknown } = {}): string {
  const parts = ['REQ: curl -g -i'];
  if (opts.insecure) parts.push('--insecure');
  parts.push('-X', method, `"${redactUrl(url)}"`);
  for (const [k, v] of sortedHeaders(headers)) parts.push(`-H "${k}: ${redactHeader(k, v)}"`);
  if (opts.json !== undefined) parts.push(`-d '${JSON.stringify(redactJson(opts.json))}'`);
  return parts.join(' ');
}

export function responseLine(method: string, url: string, status: number, headers: Record<string, string>): string {
  const parts = [`RESP: [${status}] ${method} ${redactUrl(url)}`];
  for (const [k, v] of sortedHeaders(headers)) parts.push(`${k}: ${redactHeader(k, v)}`);
  return parts.join(' ');
}
