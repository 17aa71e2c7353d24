import { EventEmitter } from 'node:events';
import type { AuthStrategy } from 'whatsapp-web.js';
import type { WwebClientLike } from '../../src/channels/whatsapp-web/client.js';

/** One sendMessage call the bot made, as WhatsApp would have received it. */
export interface SentMessage {
  chatId: string;
  content: string;
  options: { linkPreview?: boolean } | undefined;
}

let counter = 0;

/**
 * A stand-in for whatsapp-web.js's `Client` with the same interface (events, initialize, destroy,
 * sendMessage): it emits what the library would emit, in the payload shapes of its `Message` objects,
 * and records what the bot sends. No browser, no network.
 */
export class FakeWwebClient extends EventEmitter implements WwebClientLike {
  readonly sent: SentMessage[] = [];
  /** Every sendMessage call, failed ones included. */
  attempts = 0;
  initialized = false;
  destroyed = false;
  private failures = 0;

  constructor(
    /** What the channel built for it (a RemoteAuth over the MongoDB store); unused by the fake. */
    readonly authStrategy?: AuthStrategy,
    private readonly qr = `2@fake-qr-${++counter},ref,key==`,
  ) {
    super();
  }

  /** Like the real client without a saved session: the page loads, then a QR is offered. */
  async initialize(): Promise<void> {
    this.initialized = true;
    setImmediate(() => this.emit('qr', this.qr));
  }

  /** The admin scanned the QR with the phone. */
  scan(): void {
    this.emit('ready');
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
  }

  /** The next `n` sends fail the way a dropped page connection does. */
  failNext(n: number): void {
    this.failures = n;
  }

  async sendMessage(
    chatId: string,
    content: string,
    options?: { linkPreview?: boolean },
  ): Promise<{ id: { _serialized: string } }> {
    this.attempts += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('Evaluation failed: Protocol error (Runtime.callFunctionOn): Target closed');
    }
    this.sent.push({ chatId, content, options });
    return { id: { _serialized: `true_${chatId}_OUT${this.attempts}` } };
  }

  /** What `chatId` received so far. */
  to(chatId: string): string[] {
    return this.sent.filter((s) => s.chatId === chatId).map((s) => s.content);
  }
}

/** A whatsapp-web.js `Message`-shaped object, as the library passes it to 'message' listeners. */
export function wwebMessage(
  from: string,
  body: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  counter += 1;
  const id = `3EB0${counter.toString(16).toUpperCase().padStart(16, '0')}`;
  return {
    _data: { notifyName: 'Camille' },
    id: { fromMe: false, remote: from, id, _serialized: `false_${from}_${id}` },
    ack: 1,
    hasMedia: false,
    body,
    type: 'chat',
    timestamp: Math.floor(Date.now() / 1000),
    from,
    to: '33100000000@c.us',
    deviceType: 'android',
    isForwarded: false,
    forwardingScore: 0,
    isStatus: false,
    isStarred: false,
    broadcast: false,
    fromMe: false,
    hasQuotedMsg: false,
    hasReaction: false,
    location: undefined,
    vCards: [],
    mentionedIds: [],
    links: [],
    ...extra,
  };
}
