import type { Logger } from 'pino';
import { z } from 'zod';
import type { Address } from '../../engine/activity.js';
import type { ChannelSender } from '../../engine/outbox.js';
import type { Reply } from '../../engine/replies.js';
import type { ChannelContext, ChannelFactory } from '../types.js';
import { GraphClient, PermanentSendError } from '../meta/graph.js';
import { RateLimiter } from '../meta/rate-limit.js';
import { metaWebhookRoutes } from '../meta/webhook.js';
import { HOUR_MS, readRecipient } from '../meta/window.js';
import { extractMessenger } from './inbound.js';
import { renderMessenger } from './render.js';

export interface MessengerOptions {
  /** The page access token (pages_messaging). */
  pageToken: string;
  appSecret: string;
  verifyToken: string;
  graphRoot: string;
  graphVersion: string;
  log?: Logger;
  /** Spacing of Send API calls; Meta does not publish a per-second figure, so stay modest. */
  messagesPerSecond?: number;
}

const sendResponseSchema = z.object({ message_id: z.string() });

/** Standard messaging is allowed for 24 hours after the citizen's last message… */
const STANDARD_WINDOW_MS = 24 * HOUR_MS;
/** …and a human agent may answer with the HUMAN_AGENT tag for 7 days. */
const HUMAN_AGENT_WINDOW_MS = 7 * 24 * HOUR_MS;

/**
 * Renders replies through the Send API: RESPONSE inside the 24-hour window, the HUMAN_AGENT tag up
 * to 7 days, and a permanent failure beyond (Meta would refuse, so retrying only delays the dead letter).
 */
export class MessengerSender implements ChannelSender {
  private readonly graph: GraphClient;
  private readonly limiter: RateLimiter;

  constructor(
    opts: MessengerOptions,
    private readonly ctx: Pick<ChannelContext, 'db'>,
  ) {
    this.graph = new GraphClient({
      root: opts.graphRoot,
      version: opts.graphVersion,
      channel: 'messenger',
      token: opts.pageToken,
      tokenIn: 'query',
    });
    this.limiter = new RateLimiter(opts.messagesPerSecond ?? 40);
  }

  async send(address: Address, reply: Reply): Promise<{ platformMessageId: string }> {
    const { sinceLastInboundMs } = await readRecipient(this.ctx.db, address);
    if (sinceLastInboundMs > HUMAN_AGENT_WINDOW_MS) {
      throw new PermanentSendError('CHANNEL_SEND_FAILED', [
        'messenger',
        'the citizen last wrote more than 7 days ago; Messenger allows no message until they write again',
      ]);
    }
    const policy =
      sinceLastInboundMs <= STANDARD_WINDOW_MS
        ? { messaging_type: 'RESPONSE' }
        : { messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' };
    let id = '';
    for (const message of renderMessenger(reply)) {
      await this.limiter.acquire();
      const answer = await this.graph.post('me/messages', {
        recipient: { id: address.userId },
        ...policy,
        message,
      });
      const parsed = sendResponseSchema.safeParse(answer);
      if (parsed.success && id === '') id = parsed.data.message_id;
    }
    return { platformMessageId: id };
  }
}

/**
 * The Facebook Messenger channel (id 'messenger'): webhook at /webhooks/messenger, replies through the
 * Send API.
 *
 * @example
 * createApp({ ..., channels: [messengerChannel({ pageToken, appSecret, verifyToken,
 *   graphRoot: 'https://graph.facebook.com', graphVersion: 'v21.0' })] });
 */
export function messengerChannel(opts: MessengerOptions): ChannelFactory {
  return (ctx) => {
    const log = opts.log ?? ctx.log;
    return {
      id: 'messenger',
      sender: new MessengerSender(opts, ctx),
      routes: (app) =>
        metaWebhookRoutes(app, {
          path: '/webhooks/messenger',
          appSecret: opts.appSecret,
          verifyToken: opts.verifyToken,
          log,
          extract: extractMessenger,
          receive: (a) => ctx.receive(a),
        }),
    };
  };
}
