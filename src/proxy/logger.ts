/**
 * The proxy's default log (its access log included): JSON lines on stdout, buffered. A write
 * per request showed up in profiles as one of the bigger costs of a small request: the
 * syscall, and when asynchronous the hand-over to libuv's thread pool and back. Lines are now
 * written `bufferBytes` at a time, and at least every `flushMs` so a quiet proxy's lines still
 * show up promptly.
 *
 * Into a regular file the writes are synchronous (a file never pushes back, and a thread-pool
 * round trip costs more than the write); into a pipe or terminal they stay asynchronous, so a
 * slow reader cannot stall the event loop. Whatever is buffered is written when the process
 * exits, and `flush` writes it on a clean stop.
 */
import { fstatSync } from 'node:fs';
import pino, { type Logger } from 'pino';

export interface ProxyLog {
  logger: Logger;
  /** Resolves once everything logged so far has been written. */
  flush(): Promise<void>;
}

export interface ProxyLogOptions {
  /** File descriptor to write to (default 1, stdout). */
  fd?: number;
  bufferBytes?: number;
  flushMs?: number;
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

export function stdoutProxyLog(opts: ProxyLogOptions = {}): ProxyLog {
  const fd = opts.fd ?? 1;
  const sync = isRegularFile(fd);
  const destination = pino.destination({ dest: fd, sync, minLength: opts.bufferBytes ?? 8192, periodicFlush: opts.flushMs ?? 1000 });
  // pino writes out an asynchronous destination's buffer on exit by itself, not a synchronous one's.
  if (sync) {
    process.once('exit', () => {
      try {
        destination.flushSync();
      } catch {
        // Nothing more can be done about a log that fails while the process exits.
      }
    });
  }
  const logger = pino({ name: 'proxy-server' }, destination);
  return {
    logger,
    flush: () =>
      new Promise<void>((resolve) => {
        // sonic-boom cannot flush before its file descriptor is open, or once destroyed.
        const state = destination as unknown as { destroyed: boolean; fd: number };
        if (state.destroyed || state.fd < 0) return resolve();
        // Its callback comes after an fsync, which fails (harmlessly) on pipes and terminals.
        destination.flush(() => resolve());
      }),
  };
}
