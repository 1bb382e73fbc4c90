/**
 * Small client request bodies (an object PUT of a few KiB) read whole before the backend
 * requests start: each replica then gets the body in the same write as its headers, where a
 * piped stream per replica cost more than the rest of the request. Only bodies whose length
 * the client declared, up to SMALL_BODY_BYTES: anything bigger, or chunked, still streams, so
 * memory per request stays bounded.
 */
import type { IncomingMessage } from 'node:http';
import { SMALL_BODY_BYTES } from './response';
import type { RequestHeaders } from './request-headers';

/** The client went away before sending its whole body (the proxy answers 499). */
export class ClientDisconnectedError extends Error {
  constructor() {
    super('client disconnected before the end of its body');
  }
}

/**
 * The whole body when it is small and of declared length (and not yet read by anyone);
 * undefined when it must stream. Rejects with ClientDisconnectedError when the client hangs up
 * first.
 */
export function readSmallBody(incoming: IncomingMessage, headers: RequestHeaders, limit = SMALL_BODY_BYTES): Promise<Buffer | undefined> {
  const declared = headers.get('content-length');
  if (declared === undefined || headers.get('transfer-encoding') !== undefined || !/^\d+$/.test(declared)) return Promise.resolve(undefined);
  const length = Number(declared);
  if (length > limit || incoming.readableEnded || incoming.readableFlowing !== null || incoming.destroyed) return Promise.resolve(undefined);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onGone);
      incoming.off('aborted', onGone);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    };
    const onEnd = () => {
      cleanup();
      if (!incoming.complete) return reject(new ClientDisconnectedError());
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onGone = () => {
      cleanup();
      reject(new ClientDisconnectedError());
    };
    const onClose = () => {
      if (!incoming.complete) onGone();
    };
    incoming.on('data', onData);
    incoming.once('end', onEnd);
    incoming.once('error', onGone);
    incoming.once('aborted', onGone);
    incoming.once('close', onClose);
  });
}
