/**
 * Small client request bodies (an object PUT of a few KiB) read whole before the backend
 * requests start: each replica then gets the body in the same write as its headers, where a
 * piped stream per replica cost more than the rest of the request. Only bodies whose length
 * the client declared, up to SMALL_BODY_BYTES: anything bigger, or chunked, still streams, so
 * memory per request stays bounded.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { SMALL_BODY_BYTES } from './response';
import type { RequestHeaders } from './request-headers';

/** The client went away before sending its whole body (the proxy answers 499). */
export class ClientDisconnectedError extends Error {
  constructor() {
    super('client disconnected before the end of its body');
  }
}

/**
 * The client, still connected, sent no byte of its body for client_timeout seconds: Swift's
 * ChunkReadTimeout, which its proxy answers with 408 Request Timeout.
 */
export class ClientTimeoutError extends Error {
  constructor(readonly seconds: number) {
    super(`client sent no body for ${seconds}s`);
  }
}

/**
 * Swift's proxy reads each chunk of a PUT body under a client_timeout watchdog
 * (obj.py _transfer_data). The clock here runs only while the proxy wants to read: a body
 * paused by backpressure (a slow replica) is not the client's delay, so a steady upload however
 * long is never cut. Calls `onStall` once, after `seconds` without a byte while flowing;
 * returns a function that stops watching. 0 watches nothing (as eventlet, no timeout).
 */
export function watchBodyStall(body: Readable, seconds: number, onStall: () => void): () => void {
  if (!(seconds > 0) || body.readableEnded) return () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    timer = undefined;
    if (body.isPaused() || body.readableEnded) return;
    stop();
    onStall();
  };
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(fire, seconds * 1000);
  };
  const disarm = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const stop = () => {
    disarm();
    body.off('data', arm);
    body.off('resume', arm);
    body.off('pause', disarm);
    body.off('end', stop);
    body.off('close', stop);
  };
  // Listening for 'data' does not resume a stream a pipe paused (flowing === false).
  body.on('data', arm);
  body.on('resume', arm);
  body.on('pause', disarm);
  body.once('end', stop);
  body.once('close', stop);
  if (!body.isPaused()) arm();
  return stop;
}

/**
 * The whole body when it is small and of declared length (and not yet read by anyone);
 * undefined when it must stream. Rejects with ClientDisconnectedError when the client hangs up
 * first, and with ClientTimeoutError when it stalls for `clientTimeout` seconds (0: never).
 */
export function readSmallBody(incoming: IncomingMessage, headers: RequestHeaders, limit = SMALL_BODY_BYTES, clientTimeout = 0): Promise<Buffer | undefined> {
  const declared = headers.get('content-length');
  if (declared === undefined || headers.get('transfer-encoding') !== undefined || !/^\d+$/.test(declared)) return Promise.resolve(undefined);
  const length = Number(declared);
  if (length > limit || incoming.readableEnded || incoming.readableFlowing !== null || incoming.destroyed) return Promise.resolve(undefined);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      unwatch();
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
    const unwatch = watchBodyStall(incoming, clientTimeout, () => {
      cleanup();
      // Stop reading: the answer closes the connection, whatever the client sends next.
      incoming.pause();
      reject(new ClientTimeoutError(clientTimeout));
    });
    incoming.on('data', onData);
    incoming.once('end', onEnd);
    incoming.once('error', onGone);
    incoming.once('aborted', onGone);
    incoming.once('close', onClose);
  });
}
