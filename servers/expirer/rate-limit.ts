/**
 * Swift's ratelimit_sleep as the expirer's RateLimitedIterator uses it: at most `perSecond`
 * tasks a second on average, with up to `bufferSeconds` of unused allowance carried forward
 * so a short burst after a quiet spell is not slowed.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export class RateLimiter {
  /** When (ms) the next task may start, on the limiter's schedule. */
  private runningTime = 0;

  constructor(
    private readonly perSecond: number,
    private readonly bufferSeconds = 5,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves once another task may start; at once when the rate is 0 (unlimited). */
  async wait(signal?: AbortSignal): Promise<void> {
    if (!(this.perSecond > 0)) return;
    const perTask = 1000 / this.perSecond;
    const now = this.now();
    if (now - this.runningTime > this.bufferSeconds * 1000) this.runningTime = now;
    else if (this.runningTime - now > perTask) await sleep(this.runningTime - now, undefined, { signal }).catch(() => undefined);
    this.runningTime += perTask;
  }
}
