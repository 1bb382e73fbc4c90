/**
 * Start-up failures of the serving commands (start, proxy, the storage servers, the expirer):
 * each ends the process at once with a non-zero status and one line naming the cause, so a
 * supervisor (systemd, a container runtime, a test harness) never sees a live process that will
 * never serve.
 */
import { accessSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { UsageError } from './errors';

/** `--workers N|auto` of a serving command (auto, or absent: one per core, Swift's `auto`). */
export function parseWorkers(raw: string | undefined, usage: string): number {
  if (raw === undefined || raw === 'auto') return availableParallelism();
  if (!/^\d+$/.test(raw)) throw new UsageError(`--workers must be a number or auto (got ${JSON.stringify(raw)})`, usage);
  return Number(raw);
}

/** Whether an error came from binding a listening socket (its port taken, its address not ours). */
function isListenError(err: unknown): err is NodeJS.ErrnoException {
  const syscall = (err as NodeJS.ErrnoException | undefined)?.syscall;
  return syscall === 'listen' || syscall === 'bind';
}

/**
 * Names the server whose socket could not be opened: `start` opens four ports, and
 * "address already in use 127.0.0.1:6201" alone does not say which server wanted it.
 */
export function namingServer(server: string, err: unknown): unknown {
  return isListenError(err) ? new Error(`${server}: ${err.message}`, { cause: err }) : err;
}

/**
 * Ends the process shortly after a serving command failed, should anything it opened (a socket,
 * a timer in a library) still hold the event loop. Everything the command started has been
 * stopped by then; this only keeps a missed handle from turning the failure into a hang.
 */
export function exitSoon(code: number, afterMs = 300): void {
  setTimeout(() => process.exit(code), afterMs).unref();
}

/**
 * A directory the command needs: missing, not a directory or not accessible is a start-up
 * failure (exit 1 with the cause), not bad usage.
 */
export function usableDirectory(option: string, dir: string, mode: number): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
    if (isDir) accessSync(dir, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${option} ${dir} does not exist`, { cause: err });
    throw new Error(`${option} ${dir} cannot be used: ${(err as Error).message}`, { cause: err });
  }
  if (!isDir) throw new Error(`${option} ${dir} is not a directory`);
}
