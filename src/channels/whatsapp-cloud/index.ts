import type { Logger } from 'pino';
import { z } from 'zod';
import type { Address } from '../../engine/activity.js';
import type { ChannelSender } from '../../engine/outbox.js';
import type { Reply } from '../../engine/replies.js';
import type { ChannelContext, ChannelFactory } from '../types.js';
import { GraphClient } from '../meta/graph.js';
import { RateLimiter } from '../meta/rate-limit.js';
import { metaWebhookRoutes } from '../meta/webhook.js';
import { HOUR_MS, readRecipient } from '../meta/window.js';
import { extractWhatsApp } from './inbound.js';
import { renderTemplate, renderWhatsApp } from './render.js';

export interface WhatsAppCloudOptions {
  /** A system-user access token with whatsapp_business_messaging. */
  token: string;
  phoneNumberId: string;
  /** The Meta app's secret: webhooks are signed with it. */
  appSecret: string;
  /** The token you type in the app's webhook settings, echoed back during verification. */
  verifyToken: string;
  /** https://graph.facebook.com, or a fake in tests. */
  graphRoot: string;
  graphVersion: string;
  /** Name of the approved template (one body parameter) used outside the 24-hour window. */
  updateTemplate: string;
  log?: Logger;
  /** Per-number throughput; Meta's default is 80 messages/s. */
  messagesPerSecond?: number;
}

const sendResponseSchema = z.object({ messages: z.array(z.object({ id: z.string() })).min(1) });

/** Free-form messages are allowed for 24 hours after the citizen's last message. */
const SERVICE_WINDOW_MS = 24 * HOUR_MS;

/**
 * Renders replies through the Cloud API's /{phone-number-id}/messages, switching to the configured
 * template outside the customer-service window, where Meta would refuse a free-form message.
 */
export class WhatsAppCloudSender implements ChannelSender {
  private readonly graph: GraphClient;
  private readonly limiter: RateLimiter;

  constructor(
    private readonly opts: WhatsAppCloudOptions,
    private readonly ctx: Pick<ChannelContext, 'db'>,
  ) {
    this.graph = new GraphClient({
      root: opts.graphRoot,
      version: opts.graphVersion,
      channel: 'whatsapp',
      token: opts.token,
      tokenIn: 'header',
    });
    this.limiter = new RateLimiter(opts.messagesPerSecond ?? 80);
  }

  async send(address: Address, reply: Reply): Promise<{ platformMessageId: string }> {
    const recipient = await readRecipient(this.ctx.db, address);
    const message =
      recipient.sinceLastInboundMs <= SERVICE_WINDOW_MS
        ? renderWhatsApp(reply)
        : renderTemplate(reply, this.opts.updateTemplate, recipient.lang);
    await this.limiter.acquire();
    const answer = await this.graph.post(`${encodeURIComponent(this.opts.phoneNumberId)}/messages`, {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: address.userId,
      ...message,
    });
    const parsed = sendResponseSchema.safeParse(answer);
    return { platformMessageId: parsed.success ? (parsed.data.messages[0]?.id ?? '') : '' };
  }
}

/**
 * The WhatsApp Cloud API channel (id 'whatsapp'): webhook at /webhooks/whatsapp, replies through the
 * Graph API.
 *
 * @example
 * createApp({ ..., channels: [whatsappCloudChannel({ token, phoneNumberId, appSecret, verifyToken,
 *   graphRoot: 'https://graph.facebook.com', graphVersion: 'v21.0', updateTemplate: 'case_update' })] });
 */
export function whatsappCloudChannel(opts: WhatsAppCloudOptions): ChannelFactory {
  return (ctx) => {
    const log = opts.log ?? ctx.log;
    return {
      id: 'whatsapp',
      sender: new WhatsAppCloudSender(opts, ctx),
      routes: (app) =>
        metaWebhookRoutes(app, {
          path: '/webhooks/whatsapp',
          appSecret: opts.appSecret,
          verifyToken: opts.verifyToken,
          log,
          extract: extractWhatsApp,
          receive: (a) => ctx.receive(a),
        }),
    };
  };
}
