import { z } from 'zod';
import type { ChannelId } from '../../engine/activity.js';
import { AppError } from '../../errors.js';

/** Graph's error body: `{ error: { message, code, error_subcode, ... } }`. */
const graphErrorSchema = z.object({
  error: z.object({
    message: z.string().optional(),
    code: z.number().optional(),
    error_subcode: z.number().optional(),
  }),
});

/** Graph error codes that mean "too fast, try later" (WhatsApp throughput, Messenger/app rate limits). */
const THROTTLED = new Set([4, 17, 32, 613, 80007, 130429, 131048, 131056]);

/**
 * A send Meta will never accept as it stands (policy window closed, unknown recipient). The outbox
 * should dead-letter it at once rather than retry; `permanent` says so.
 */
export class PermanentSendError extends AppError {
  override readonly permanent = true;
}

export interface GraphClientOptions {
  /** e.g. https://graph.facebook.com, or a test fake. */
  root: string;
  /** e.g. v21.0 */
  version: string;
  channel: ChannelId;
  /** Token sent as a bearer header (WhatsApp) or as the access_token query (Messenger's Send API). */
  token: string;
  tokenIn: 'header' | 'query';
  /** Back-off when Graph throttles without a Retry-After header. */
  throttleDelayMs?: number;
}

/**
 * A minimal Graph API client over Node's fetch: POST JSON, parse the answer, and turn Graph's failures
 * into the outbox's vocabulary (retryable AppError with a retry-after, or a PermanentSendError).
 */
export class GraphClient {
  constructor(private readonly opts: GraphClientOptions) {}

  async post(path: string, body: unknown): Promise<unknown> {
    const url = new URL(`${this.opts.root.replace(/\/+$/, '')}/${this.opts.version}/${path}`);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.opts.tokenIn === 'query') url.searchParams.set('access_token', this.opts.token);
    else headers.authorization = `Bearer ${this.opts.token}`;
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    } catch (err) {
      throw new AppError('CHANNEL_SEND_FAILED', [this.opts.channel, 'Graph API unreachable'], { cause: err });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      json = {};
    }
    if (res.ok) return json;
    const parsed = graphErrorSchema.safeParse(json);
    const code = parsed.success ? parsed.data.error.code : undefined;
    const reason = `HTTP ${res.status}${code !== undefined ? ` Graph error ${code}` : ''}${
      parsed.success && parsed.data.error.message ? `: ${parsed.data.error.message}` : ''
    }`;
    if (res.status === 429 || (code !== undefined && THROTTLED.has(code))) {
      throw new AppError('CHANNEL_SEND_FAILED', [this.opts.channel, reason], {
        retryAfterMs: retryAfterMs(res.headers.get('retry-after')) ?? this.opts.throttleDelayMs ?? 1000,
      });
    }
    // 5xx and anything else: the outbox backs off and retries; only callers know what is permanent.
    throw new GraphSendError(this.opts.channel, reason, res.status, code);
  }
}

/** A failed Graph call, with what a renderer needs to decide whether another form could succeed. */
export class GraphSendError extends AppError {
  constructor(
    channel: string,
    reason: string,
    readonly httpStatus: number,
    readonly graphCode: number | undefined,
  ) {
    super('CHANNEL_SEND_FAILED', [channel, reason]);
  }
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 10 * 60_000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
