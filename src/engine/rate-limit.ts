/** How fast one key (a conversation) may go: a burst, then a sustained rate. */
export interface RateLimitOptions {
  /** Messages a quiet conversation may send back to back before it is paced. */
  burst: number;
  /** Sustained messages per second per conversation once the burst is spent. */
  perSecond: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key, in memory. The inbox asks it before each turn: a conversation that floods
 * is paced (its messages wait, persisted, and are processed later), so it cannot take the turns,
 * the database and the platform's send budget away from everyone else. Nothing is ever dropped here;
 * the answer is only "now" (0) or "in this many milliseconds".
 *
 * Per instance: with several instances a conversation's budget is at most instances × the rate,
 * which is still a bound; a shared bucket would cost a database round trip per message.
 *
 * @example
 * const limiter = new TokenBuckets({ burst: 20, perSecond: 2 });
 * const waitMs = limiter.take('telegram:42'); // 0 → go; otherwise retry after waitMs
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly opts: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {
    if (!(opts.burst >= 1) || !(opts.perSecond > 0)) throw new RangeError('burst ≥ 1 and perSecond > 0');
  }

  /** Takes a token for `key` and returns 0, or takes nothing and returns how long to wait for one. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.refill(key, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / this.opts.perSecond);
  }

  /** Forgets buckets that are full again, so memory follows active conversations only. */
  prune(): void {
    const now = this.now();
    for (const key of [...this.buckets.keys()]) {
      if (this.refill(key, now).tokens >= this.opts.burst) this.buckets.delete(key);
    }
  }

  /** Number of conversations currently tracked (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private refill(key: string, now: number): Bucket {
    const bucket = this.buckets.get(key) ?? { tokens: this.opts.burst, at: now };
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    bucket.tokens = Math.min(this.opts.burst, bucket.tokens + elapsed * this.opts.perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    return bucket;
  }
}
