/**
 * Spaces sends so that at most `perSecond` start in any second (Meta's per-number throughput), by
 * handing out start slots in order; callers wait for theirs instead of being refused.
 */
export class RateLimiter {
  private next = 0;
  private readonly gapMs: number;

  constructor(perSecond: number) {
    this.gapMs = 1000 / perSecond;
  }

  async acquire(): Promise<void> {
    const now = Date.now();
    const slot = Math.max(now, this.next);
    this.next = slot + this.gapMs;
    const wait = slot - now;
    if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
