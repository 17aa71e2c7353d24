import { z } from 'zod';
import { spawnWorker, workerEntry } from '../threads.js';
import { INTENTS, LANGS, NONE } from './catalog.js';
import type { LanguageChoice, Understander, Understood } from './understand.js';

/** Where the worker gets its model: the cache (trained there when missing) or a model file. */
export const nluThreadOptionsSchema = z.object({
  cacheDir: z.string().optional(),
  modelPath: z.string().optional(),
});
export type NluThreadOptions = z.infer<typeof nluThreadOptionsSchema>;

const lang = z.enum(LANGS);
const nluRequestSchema = z.object({
  id: z.number(),
  text: z.string(),
  choice: z.object({ chosen: lang.optional(), prior: lang }),
});
type NluRequest = z.infer<typeof nluRequestSchema>;
/** The requests of one event-loop turn go as one message (each message costs both threads a clone). */
export const nluBatchSchema = z.array(nluRequestSchema);

const understoodSchema = z.object({
  lang,
  nlu: z.object({
    text: z.string(),
    intent: z.enum([...INTENTS, NONE]),
    score: z.number(),
    lang,
    references: z.array(z.string()),
  }),
});
export const fromNluThreadSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('ready') }),
  z.object({ t: z.literal('failed'), message: z.string() }),
  z.object({
    t: z.literal('answers'),
    answers: z.array(
      z.union([
        z.object({ id: z.number(), value: understoodSchema }),
        z.object({ id: z.number(), error: z.string() }),
      ]),
    ),
  }),
]);
export type FromNluThread = z.infer<typeof fromNluThreadSchema>;

/** The intent model in its own thread. */
export interface NluThread extends Understander {
  understand(text: string, choice: LanguageChoice): Promise<Understood>;
  close(): Promise<void>;
}

/**
 * Runs the intent model in a worker thread: reading a message (language, then intent) is about a
 * tenth of a turn's work, which then runs beside the event loop instead of on it. Resolves once the
 * model is loaded (or trained, the first time). If the thread dies, pending and later requests fail
 * (the inbox retries their turns) and `onExit` is told, so the app can stop rather than run deaf.
 *
 * @example
 * const nlu = await startNluThread({ cacheDir: '.cache/nlu' });
 * const { lang, nlu: intent } = await nlu.understand('bonjour', { prior: 'en' });
 */
export async function startNluThread(
  opts: NluThreadOptions = {},
  onExit: (err: Error) => void = () => undefined,
): Promise<NluThread> {
  const worker = spawnWorker(workerEntry(import.meta.url, 'understand-worker'), {
    workerData: opts,
    name: 'nlu',
  });
  const pending = new Map<number, { resolve: (u: Understood) => void; reject: (err: Error) => void }>();
  let next = 0;
  let gone: Error | undefined;
  let closing = false;
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: unknown) => {
      const msg = fromNluThreadSchema.safeParse(m);
      if (!msg.success) return;
      const data = msg.data;
      if (data.t === 'ready') resolve();
      else if (data.t === 'failed') reject(new Error(`intent model: ${data.message}`));
      else
        for (const answer of data.answers) {
          const call = pending.get(answer.id);
          pending.delete(answer.id);
          if ('value' in answer) call?.resolve(answer.value);
          else call?.reject(new Error(`intent model: ${answer.error}`));
        }
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      gone = new Error(`intent model thread stopped (exit code ${code})`);
      reject(gone);
      for (const call of pending.values()) call.reject(gone);
      pending.clear();
      if (!closing) onExit(gone);
    });
  });
  await ready;
  worker.unref();
  let queued: NluRequest[] = [];
  const send = (): void => {
    const batch = queued;
    queued = [];
    if (!gone) worker.postMessage(batch);
  };
  return {
    understand(text, choice) {
      if (gone) return Promise.reject(gone);
      const id = next++;
      const request: NluRequest = {
        id,
        text,
        choice: choice.chosen ? { chosen: choice.chosen, prior: choice.prior } : { prior: choice.prior },
      };
      return new Promise<Understood>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        if (queued.push(request) === 1) setImmediate(send);
      });
    },
    async close() {
      closing = true;
      await worker.terminate();
    },
  };
}
