// The embedded server's heap with many stored messages, held as objects and packed (documents.ts):
// how long a full garbage collection of its thread takes, and what packing and reading back cost.
// `npm run bench -- heap`, or alone: `npx tsx scripts/bench-db-heap.ts`.
import { ObjectId } from 'bson';
import { cpus, totalmem } from 'node:os';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { IndexDefinition, IndexOptions, Schema } from 'mongoose';
import { Store, makeIndex } from '../src/db/embedded/store.js';
import type { Doc } from '../src/db/embedded/values.js';
import { inboundMessageSchema } from '../src/db/models/inbound.js';
import { outboundMessageSchema } from '../src/db/models/outbound.js';

/** Inbound and outbound messages each: what ~90 s at 520 messages a second leaves stored. */
const MESSAGES = 48_000;
const CHATS = 1820;
const COLLECTIONS = 8;

/** The app's own index specs for a model, as createIndexes would send them. */
function specs(schema: Schema): Doc[] {
  return schema.indexes().map(([key, options]: [IndexDefinition, IndexOptions]) => ({
    key,
    name: Object.entries(key)
      .map(([k, v]) => `${k}_${String(v)}`)
      .join('_'),
    ...options,
  }));
}

function inbound(i: number, at: Date): Doc {
  const chat = String(100_000 + (i % CHATS));
  return {
    _id: new ObjectId(),
    channel: 'telegram',
    platformMessageId: `${chat}:${i}`,
    conversationKey: `telegram:${chat}`,
    activity: {
      type: 'message',
      id: String(i),
      timestamp: at,
      channelId: 'telegram',
      from: { id: chat, name: `Citizen ${chat}` },
      conversation: { id: chat },
      recipient: { id: 'bot' },
      text: `There is a pothole on the main street, number ${i}`,
      locale: 'en',
      address: { channel: 'telegram', chatId: chat },
    },
    status: 'done',
    attempts: 1,
    createdAt: at,
    updatedAt: at,
  };
}

function outbound(i: number, at: Date): Doc {
  const chat = String(100_000 + (i % CHATS));
  return {
    _id: new ObjectId(),
    idempotencyKey: `reply:${i}:0`,
    conversationKey: `telegram:${chat}`,
    seq: i,
    address: { channel: 'telegram', chatId: chat },
    payload: {
      kind: 'text',
      text: `Your report is recorded as RD-${i}.`,
      buttons: [{ id: 'yes', label: 'Yes' }],
    },
    status: 'sent',
    attempts: 1,
    platformMessageId: String(i),
    createdAt: at,
    updatedAt: at,
    sentAt: at,
  };
}

function fill(): Store {
  const store = new Store();
  const inboundColl = store.ensure('app', 'inbound_messages', {});
  for (const spec of specs(inboundMessageSchema)) inboundColl.addIndex(makeIndex(spec));
  const outboundColl = store.ensure('app', 'outbound_messages', {});
  for (const spec of specs(outboundMessageSchema)) outboundColl.addIndex(makeIndex(spec));
  const t0 = Date.now();
  for (let i = 0; i < MESSAGES; i++) {
    const at = new Date(t0 + i * 2);
    inboundColl.put(inbound(i, at));
    outboundColl.put(outbound(i, at));
  }
  return store;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Median of forced full collections, in ms. */
function fullGc(gc: () => void): number {
  gc();
  const times: number[] = [];
  for (let k = 0; k < COLLECTIONS; k++) {
    const t0 = performance.now();
    gc();
    times.push(performance.now() - t0);
  }
  return median(times);
}

interface Figures {
  gcMs: number;
  heapMb: number;
}

function measure(gc: () => void, pack: boolean): Figures & { packUs?: number; readUs?: number } {
  const store = fill();
  let packUs: number | undefined;
  let readUs: number | undefined;
  if (pack) {
    const t0 = performance.now();
    const packed = store.cool(0);
    packUs = ((performance.now() - t0) * 1000) / packed;
    const coll = store.get('app', 'inbound_messages');
    const ids = [...(coll?.docs.keys() ?? [])].slice(0, 10_000);
    const t1 = performance.now();
    for (const id of ids) coll?.docs.get(id);
    readUs = ((performance.now() - t1) * 1000) / ids.length;
  }
  const gcMs = fullGc(gc);
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
  return {
    gcMs,
    heapMb,
    ...(packUs === undefined ? {} : { packUs }),
    ...(readUs === undefined ? {} : { readUs }),
  };
}

/** Runs the benchmark and returns its Markdown section. */
export function benchDbHeap(): Promise<string> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const empty = fullGc(gc);
  const objects = measure(gc, false);
  const packed = measure(gc, true);
  const cpu = cpus();
  const section = [
    '## Embedded server: stored documents and garbage collection',
    '',
    `Measured ${new Date().toISOString()} on ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, with \`npm run bench -- heap\`.`,
    `A store holding ${MESSAGES.toLocaleString('en')} processed inbound and as many sent outbound messages of ${CHATS} chats (about 90 s of the load benchmark at 520 messages a second; they are kept 30 days), with the app's indexes, in this process. Full GC: the median of ${COLLECTIONS} forced full collections of this process's heap (${empty.toFixed(1)} ms with nothing stored; "of which the store" is the difference). Heap: used after them. The server packs a document left unwritten for 5 s (\`src/db/embedded/README.md\`, Packed documents).`,
    '',
    '| documents held | full GC ms | of which the store | heap MB | pack µs/doc | read back µs/doc |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    `| as objects | ${objects.gcMs.toFixed(1)} | ${(objects.gcMs - empty).toFixed(1)} | ${objects.heapMb.toFixed(0)} | | |`,
    `| packed | ${packed.gcMs.toFixed(1)} | ${(packed.gcMs - empty).toFixed(1)} | ${packed.heapMb.toFixed(0)} | ${packed.packUs?.toFixed(1) ?? ''} | ${packed.readUs?.toFixed(1) ?? ''} |`,
    '',
  ].join('\n');
  return Promise.resolve(section);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(await benchDbHeap());
}
