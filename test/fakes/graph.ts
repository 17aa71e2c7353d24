import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call the bot made to the fake Graph API. */
export interface GraphCall {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** The status the fake answered with. */
  status: number;
}

type Failure =
  | { kind: 'http'; status: number; retryAfter?: number }
  | { kind: 'graph'; status: number; code: number; message: string };

/**
 * A local stand-in for graph.facebook.com: records every call (path, query, JSON body), answers sends
 * the way Graph does (a wamid for WhatsApp, a message_id for Messenger), and can be told to fail the
 * next N calls with a bare status or a Graph error body.
 */
export class FakeGraph {
  readonly calls: GraphCall[] = [];
  private readonly failures: Failure[] = [];
  private readonly waiters = new Set<() => void>();
  private counter = 0;
  private server: Server | undefined;
  root = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(({ status, body, headers }) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.root = `http://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** The next `n` calls answer `status` (e.g. 429 with Retry-After, or 500). */
  failNext(n: number, status: number, retryAfter?: number): void {
    for (let i = 0; i < n; i++)
      this.failures.push({ kind: 'http', status, ...(retryAfter !== undefined ? { retryAfter } : {}) });
  }

  /** The next `n` calls answer a Graph error body (e.g. code 130429 throughput, 613 rate limit). */
  failNextWithGraphError(n: number, code: number, status = 400, message = 'fake Graph error'): void {
    for (let i = 0; i < n; i++) this.failures.push({ kind: 'graph', status, code, message });
  }

  /** Successful sends (status 200) whose recipient is `to`, in order. */
  sentTo(to: string): GraphCall[] {
    return this.calls.filter((c) => c.status === 200 && recipientOf(c.body) === to);
  }

  /** Resolves once `predicate` holds, re-checked after every call; rejects after `timeoutMs`. */
  async waitFor(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error('fake Graph: condition not met in time'));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  private async handle(
    req: IncomingMessage,
  ): Promise<{ status: number; body: unknown; headers: Record<string, string> }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const failure = this.failures.shift();
    let answer: { status: number; body: unknown; headers: Record<string, string> };
    if (failure?.kind === 'http') {
      answer = {
        status: failure.status,
        body: { error: { message: `fake HTTP ${failure.status}`, code: 1 } },
        headers: failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {},
      };
    } else if (failure?.kind === 'graph') {
      answer = {
        status: failure.status,
        body: {
          error: { message: failure.message, type: 'OAuthException', code: failure.code, fbtrace_id: 'F' },
        },
        headers: {},
      };
    } else {
      this.counter += 1;
      const to = recipientOf(body) ?? '';
      answer = url.pathname.endsWith('/me/messages')
        ? { status: 200, body: { recipient_id: to, message_id: `m_fake${this.counter}` }, headers: {} }
        : {
            status: 200,
            body: {
              messaging_product: 'whatsapp',
              contacts: [{ input: to, wa_id: to }],
              messages: [{ id: `wamid.fake${this.counter}` }],
            },
            headers: {},
          };
    }
    this.calls.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      status: answer.status,
    });
    for (const wake of [...this.waiters]) wake();
    return answer;
  }
}

/** The recipient of a send: `to` (WhatsApp) or `recipient.id` (Messenger). */
export function recipientOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  if ('to' in body && typeof body.to === 'string') return body.to;
  if ('recipient' in body && typeof body.recipient === 'object' && body.recipient !== null) {
    const r = body.recipient;
    if ('id' in r && typeof r.id === 'string') return r.id;
  }
  return undefined;
}
