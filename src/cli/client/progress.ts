/**
 * Transfer progress for `upload` and `download`: bars with throughput and ETA (cli-progress)
 * when stderr is a terminal, one plain line per finished object otherwise (logs, pipes, CI),
 * and nothing with --quiet. Progress goes to stderr so stdout stays the command's output.
 */
import { MultiBar, type SingleBar } from 'cli-progress';

export interface TransferProgress {
  /** A transfer begins; `total` bytes when known. */
  start(name: string, total: number | undefined): void;
  /** `bytes` more of `name` have moved; `total` once it is known (a download's Content-Length). */
  advance(name: string, bytes: number, total?: number): void;
  /** `name` is done (`error` set when it failed). */
  finish(name: string, error?: string): void;
  /** All transfers are over: bars are removed and the summary line written. */
  close(): void;
}

export interface ProgressOptions {
  stream: NodeJS.WriteStream;
  quiet: boolean;
  /** Bars even when the stream is not a terminal (tests); default: `stream.isTTY`. */
  tty?: boolean;
  now?: () => number;
}

/** 1536 → "1.5 KiB": the binary units swiftclient's --lh prints. */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

interface Transfer {
  started: number;
  bytes: number;
  total: number | undefined;
  bar?: SingleBar;
}

export function transferProgress(options: ProgressOptions): TransferProgress {
  const now = options.now ?? (() => Date.now());
  const transfers = new Map<string, Transfer>();
  let moved = 0;
  let objects = 0;
  let failed = 0;
  const firstStart = now();
  const tty = !options.quiet && (options.tty ?? options.stream.isTTY === true);
  const write = (line: string) => {
    if (!options.quiet) options.stream.write(line + '\n');
  };
  const rate = (bytes: number, ms: number) => `${humanBytes(Math.round(bytes / Math.max(ms / 1000, 0.001)))}/s`;
  const bars = tty
    ? new MultiBar(
        {
          stream: options.stream,
          format: '{name} |{bar}| {percentage}% {done}/{size} {speed} ETA {eta_formatted}',
          barsize: 24,
          hideCursor: false,
          clearOnComplete: true,
          stopOnComplete: false,
          // Redraw whatever the stream claims to be: a pseudo-terminal in tests, a real one for users.
          noTTYOutput: true,
          notTTYSchedule: 200,
          fps: 10,
          etaBuffer: 50,
        },
        undefined,
      )
    : undefined;
  const payload = (name: string, t: Transfer) => ({
    name: name.length > 32 ? `…${name.slice(-31)}` : name.padEnd(32),
    done: humanBytes(t.bytes),
    size: t.total === undefined ? '?' : humanBytes(t.total),
    speed: rate(t.bytes, now() - t.started),
  });

  return {
    start(name, total) {
      const t: Transfer = { started: now(), bytes: 0, total };
      if (bars) t.bar = bars.create(Math.max(total ?? 0, 1), 0, payload(name, t));
      transfers.set(name, t);
    },
    advance(name, bytes, total) {
      const t = transfers.get(name);
      if (!t) return;
      if (t.total === undefined && total !== undefined) {
        t.total = total;
        t.bar?.setTotal(Math.max(total, 1));
      }
      t.bytes += bytes;
      moved += bytes;
      t.bar?.update(Math.min(t.bytes, t.total ?? t.bytes), payload(name, t));
    },
    finish(name, error) {
      const t = transfers.get(name);
      if (!t) return;
      transfers.delete(name);
      if (error) failed++;
      else objects++;
      if (t.bar) {
        t.bar.update(t.total ?? t.bytes, payload(name, t));
        bars!.remove(t.bar);
      }
      const took = now() - t.started;
      const line = error ? `${name}: failed: ${error}` : `${name} (${humanBytes(t.bytes)} in ${(took / 1000).toFixed(1)} s, ${rate(t.bytes, took)})`;
      if (bars) {
        // Written above the bars at the next redraw, which this forces.
        bars.log(line + '\n');
        bars.update();
      } else write(line);
    },
    close() {
      bars?.stop();
      const took = now() - firstStart;
      if (objects + failed > 1) write(`${objects} done${failed ? `, ${failed} failed` : ''}: ${humanBytes(moved)} in ${(took / 1000).toFixed(1)} s (${rate(moved, took)})`);
    },
  };
}
