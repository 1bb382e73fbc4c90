/**
 * Errors the Session raises besides an HTTP error status (ClientHttpError, in ./types), after
 * keystoneauth1.exceptions: connection failures, timeouts, a catalog without the endpoint asked
 * for, and options that cannot work. Messages never carry a secret (URLs are redacted).
 */
import { ClientHttpError } from './types';

/** The server could not be reached, or the connection broke before an answer (keystoneauth's ConnectFailure). */
export class ClientConnectionError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    const why = options?.cause instanceof Error ? options.cause.message : String(options?.cause ?? 'unknown error');
    super(`Unable to establish connection to ${url} (${method}): ${why}`, options);
    this.name = 'ClientConnectionError';
  }
}

/** No answer within the timeout (keystoneauth's ConnectTimeout). */
export class ClientTimeoutError extends ClientConnectionError {
  constructor(method: string, url: string, options?: { cause?: unknown }) {
    super(method, url, options);
    this.message = `Request to ${url} (${method}) timed out`;
    this.name = 'ClientTimeoutError';
  }
}

/** The TLS handshake failed (an untrusted or mismatched certificate): keystoneauth's SSLError, never retried. */
export class ClientTlsError extends ClientConnectionError {
  constructor(method: string, url: string, options?: { cause?: unknown }) {
    super(method, url, options);
    this.message = `SSL exception connecting to ${url} (${method}): ${options?.cause instanceof Error ? options.cause.message : 'TLS failure'}`;
    this.name = 'ClientTlsError';
  }
}

/** Authentication was refused or answered something that is not a token (keystoneauth's AuthorizationFailure). */
export class AuthenticationError extends ClientHttpError {
  constructor(status: number, method: string, url: string, headers: Record<string, string>, body: string, reason?: string) {
    super(status, method, url, headers, body);
    if (reason) this.message = `${method} ${url}: ${reason}`;
    this.name = 'AuthenticationError';
  }
}

/** The service catalog has no endpoint the filter selects (keystoneauth's EndpointNotFound). */
export class EndpointNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointNotFoundError';
  }
}

/** Options a Session or plugin cannot work with (missing credentials, a bad URL, conflicting scopes). */
export class ClientConfigError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'ClientConfigError';
  }
}
