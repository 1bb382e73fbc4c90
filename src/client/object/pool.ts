/**
 * Bounded parallelism for segment uploads (swiftclient's segment thread pool): at most
 * `concurrency` tasks run at once; after the first failure (or an abort) no new task starts,
 * the running ones are waited for, and that first error is thrown.
 */

export function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : Object.assign(new Error('The upload was aborted'), { name: 'AbortError' });
}

export class TaskPool {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly concurrency: number,
    private readonly signal?: AbortSignal,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  }

  private check(): void {
    if (this.failure) throw this.failure.error;
    if (this.signal?.aborted) throw abortError(this.signal);
  }

  /** Waits for a free slot, then starts `task`; throws the first failure instead of starting. */
  async add(task: () => Promise<void>): Promise<void> {
    this.check();
    while (this.running.size >= this.concurrency) {
      await Promise.race(this.running);
      this.check();
    }
    const p: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Waits for every started task; throws the first failure. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
    this.check();
  }

  /** Waits for the running tasks without throwing (cleanup after a failure elsewhere). */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
  }
}
