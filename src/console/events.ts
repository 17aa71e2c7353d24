import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/connection.js';
import type { CaseStatus, TranscriptFrom } from '../db/models/index.js';
import { principal } from './auth.js';
import { scopeOf } from './views.js';

/** One server-sent event: a case of the official's departments was created, got a message, or changed. */
export interface CaseEvent {
  type: 'case.new' | 'case.message' | 'case.updated';
  reference: string;
  department: string;
  status: CaseStatus;
  at: string;
}

interface Changed {
  reference: string;
  department: string;
  status: CaseStatus;
  createdAt: Date;
  updatedAt: Date;
  transcript: { from: TranscriptFrom; at: Date }[];
}

/**
 * `GET /api/v1/events`: a text/event-stream of {@link CaseEvent}s. Polls the cases of the official's
 * departments changed since the last poll (every `pollMs`), so it works across app instances without
 * a message bus; a heartbeat comment keeps proxies from closing the stream; the browser's
 * EventSource reconnects on its own after `retry` ms.
 */
export function eventStream(
  db: Pick<Db, 'Case' | 'Department'>,
  clock: () => Date,
  pollMs: number,
  open: Set<() => void>,
) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const who = principal(req);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    let since = clock();
    const seen = new Set<string>();
    let busy = false;
    let closed = false;
    const tick = async (): Promise<void> => {
      if (busy || closed) return;
      busy = true;
      try {
        const departments = await scopeOf(db, who);
        const changed = await db.Case.find({ department: { $in: departments }, updatedAt: { $gte: since } })
          .select({
            reference: 1,
            department: 1,
            status: 1,
            createdAt: 1,
            updatedAt: 1,
            'transcript.from': 1,
            'transcript.at': 1,
          })
          .sort({ updatedAt: 1 })
          .limit(200)
          .lean<Changed[]>();
        for (const c of changed) {
          // Same-millisecond writes can land after a poll: re-read from `since` inclusive, skip what was sent.
          const key = `${c.reference}@${c.updatedAt.getTime()}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const last = c.transcript.at(-1);
          const type: CaseEvent['type'] =
            c.createdAt >= since
              ? 'case.new'
              : last?.from === 'citizen' && last.at >= since
                ? 'case.message'
                : 'case.updated';
          const event: CaseEvent = {
            type,
            reference: c.reference,
            department: c.department,
            status: c.status,
            at: c.updatedAt.toISOString(),
          };
          if (!closed) res.write(`event: ${type}\ndata: ${JSON.stringify(event)}\n\n`);
        }
        const newest = changed.at(-1)?.updatedAt;
        if (newest !== undefined && newest > since) {
          since = newest;
          for (const key of seen) if (Number(key.split('@')[1]) < since.getTime()) seen.delete(key);
        }
      } catch (err) {
        req.log.warn({ err }, 'console events: poll failed; retrying');
      } finally {
        busy = false;
      }
    };
    const poll = setInterval(() => void tick(), pollMs);
    const ping = setInterval(() => {
      if (!closed) res.write(': ping\n\n');
    }, 15_000);
    const stop = (): void => {
      closed = true;
      clearInterval(poll);
      clearInterval(ping);
      open.delete(end);
    };
    // Called when the server shuts down: an open stream would otherwise keep close() waiting.
    const end = (): void => {
      stop();
      res.end();
    };
    open.add(end);
    req.raw.on('close', stop);
    res.on('close', stop);
    res.on('error', stop);
  };
}
