import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Bot API call the bot made, as the fake received it. */
export interface RecordedCall {
  method: string;
  params: Record<string, unknown>;
}

/** A failure the fake answers with instead of doing the call. */
export type InjectedFailure =
  { code: 429; retryAfter: number } | { code: 500 } | { code: 400 | 403; description: string };

interface PendingPoll {
  offset: number;
  limit: number;
  respond: (updates: unknown[]) => void;
}

const SEND_METHODS = new Set(['sendMessage', 'sendPhoto']);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const toInt = (v: unknown, fallback: number): number => {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? Math.trunc(n) : fallback;
};

/**
 * A local fake of the Telegram Bot API (what telegraf calls: getMe, sendMessage, sendPhoto,
 * answerCallbackQuery, setWebhook, deleteWebhook, getUpdates with offset semantics). It records every
 * call, and can answer the next sends with 429 + retry_after, 500, or a 400/403 refusal.
 *
 * @example
 * const fake = await startFakeTelegram('123:abc');
 * telegramChannel({ token: '123:abc', apiRoot: fake.apiRoot });
 */
export class FakeTelegram {
  readonly calls: RecordedCall[] = [];
  private readonly server: Server;
  private readonly updates: { update_id: number }[] = [];
  private readonly polls = new Set<PendingPoll>();
  private readonly failures: InjectedFailure[] = [];
  private readonly listeners = new Set<() => void>();
  private nextUpdateId = 1000;
  private nextMessageId = 1;
  apiRoot = '';

  constructor(readonly token: string) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async listen(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const { port } = this.server.address() as AddressInfo;
    this.apiRoot = `http://127.0.0.1:${port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const poll of this.polls) poll.respond([]);
    this.polls.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Answers the next `n` sendMessage/sendPhoto calls with `failure` instead of sending. */
  failNext(n: number, failure: InjectedFailure): void {
    for (let i = 0; i < n; i += 1) this.failures.push(failure);
  }

  /** Queues an update for getUpdates (long polling); gives it the next update_id unless it has one. */
  queueUpdate(update: Record<string, unknown>): number {
    const updateId = toInt(update.update_id, this.nextUpdateId);
    this.nextUpdateId = Math.max(this.nextUpdateId, updateId) + 1;
    this.updates.push({ ...update, update_id: updateId });
    for (const poll of [...this.polls]) {
      const ready = this.pending(poll.offset, poll.limit);
      if (ready.length > 0) poll.respond(ready);
    }
    return updateId;
  }

  /** Calls of one method, in the order received. */
  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** What the bot successfully sent to a chat (sendMessage and sendPhoto), in order. */
  sentTo(chatId: number | string): RecordedCall[] {
    return this.calls.filter(
      (c) =>
        c.method.startsWith('send') && !('failed' in c.params) && String(c.params.chat_id) === String(chatId),
    );
  }

  /** Resolves once `predicate` holds over the recorded calls (re-checked on every call), or rejects after `ms`. */
  async waitFor(predicate: (calls: readonly RecordedCall[]) => boolean, ms = 20_000): Promise<void> {
    if (predicate(this.calls)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error('fake telegram: the expected call never came'));
      }, ms);
      const check = (): void => {
        if (!predicate(this.calls)) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      this.listeners.add(check);
    });
  }

  private pending(offset: number, limit: number): unknown[] {
    return this.updates.filter((u) => u.update_id >= offset).slice(0, limit);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.from(chunk as Uint8Array));
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
    const send = (status: number, body: unknown): void => {
      if (res.writableEnded) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!match) return send(404, { ok: false, error_code: 404, description: 'Not Found' });
    if (match[1] !== this.token)
      return send(401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const method = match[2] ?? '';
    let params: Record<string, unknown> = {};
    const raw = Buffer.concat(chunks).toString('utf8');
    if (raw !== '') {
      try {
        const parsed: unknown = JSON.parse(raw);
        if (isRecord(parsed)) params = parsed;
      } catch {
        return send(400, { ok: false, error_code: 400, description: 'Bad Request: body is not JSON' });
      }
    }
    const record = (extra: Record<string, unknown> = {}): void => {
      this.calls.push({ method, params: { ...params, ...extra } });
      for (const listener of [...this.listeners]) listener();
    };

    if (SEND_METHODS.has(method)) {
      const failure = this.failures.shift();
      if (failure) {
        record({ failed: failure.code });
        if (failure.code === 429) {
          return send(429, {
            ok: false,
            error_code: 429,
            description: `Too Many Requests: retry after ${failure.retryAfter}`,
            parameters: { retry_after: failure.retryAfter },
          });
        }
        if (failure.code === 500) {
          return send(500, { ok: false, error_code: 500, description: 'Internal Server Error' });
        }
        return send(failure.code, { ok: false, error_code: failure.code, description: failure.description });
      }
    }

    switch (method) {
      case 'getMe':
        record();
        return send(200, {
          ok: true,
          result: {
            id: Number(this.token.split(':')[0]) || 1,
            is_bot: true,
            first_name: 'Civic',
            username: 'civic_test_bot',
          },
        });
      case 'setWebhook':
      case 'deleteWebhook':
      case 'answerCallbackQuery':
        record();
        return send(200, { ok: true, result: true });
      case 'sendMessage':
      case 'sendPhoto': {
        if (params.chat_id === undefined) {
          record();
          return send(400, { ok: false, error_code: 400, description: 'Bad Request: chat_id is empty' });
        }
        record();
        const messageId = this.nextMessageId++;
        return send(200, {
          ok: true,
          result: {
            message_id: messageId,
            date: Math.floor(Date.now() / 1000),
            chat: { id: toInt(params.chat_id, 0), type: 'private' },
            ...(method === 'sendMessage'
              ? { text: params.text }
              : {
                  photo: [
                    { file_id: `photo-${messageId}`, file_unique_id: `p${messageId}`, width: 1, height: 1 },
                  ],
                }),
          },
        });
      }
      case 'getUpdates': {
        record();
        const offset = toInt(params.offset, 0);
        const limit = Math.min(Math.max(toInt(params.limit, 100), 1), 100);
        // Asking with an offset confirms every earlier update, as the real server does.
        if (offset > 0) {
          for (let i = this.updates.length - 1; i >= 0; i -= 1) {
            const u = this.updates[i];
            if (u && u.update_id < offset) this.updates.splice(i, 1);
          }
        }
        const ready = this.pending(offset, limit);
        const timeout = toInt(params.timeout, 0);
        if (ready.length > 0 || timeout <= 0) return send(200, { ok: true, result: ready });
        const poll: PendingPoll = {
          offset,
          limit,
          respond: (updates) => {
            clearTimeout(timer);
            this.polls.delete(poll);
            send(200, { ok: true, result: updates });
          },
        };
        const timer = setTimeout(() => poll.respond([]), timeout * 1000);
        this.polls.add(poll);
        res.on('close', () => {
          clearTimeout(timer);
          this.polls.delete(poll);
        });
        return;
      }
      default:
        record();
        return send(404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    }
  }
}

/** Starts a fake Bot API server on 127.0.0.1 and a free port. */
export async function startFakeTelegram(token = '123456:TEST-token'): Promise<FakeTelegram> {
  return new FakeTelegram(token).listen();
}
