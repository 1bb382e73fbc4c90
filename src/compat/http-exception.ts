/**
 * swob's HTTPException: an answer (status, body, headers) raised from deep inside the handling
 * of a request and turned into the response by whoever catches it (the storage servers' request
 * loop, a middleware's handler). Without a body, the layer that renders it uses swob's default
 * body for the status.
 */
export class HttpException extends Error {
  constructor(
    readonly status: number,
    readonly body?: string,
    readonly headers: Record<string, string> = {},
    readonly contentType?: string,
  ) {
    super(body ?? `HTTP ${status}`);
  }
}
