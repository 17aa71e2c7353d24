import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  ftruncateSync,
  unlinkSync,
  writeFileSync,
  fstatSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { deserialize, serialize } from 'bson';
import type { Doc } from './values.js';

/*
 * On-disk layout of a data folder:
 *   snapshot-<gen>.bson  the whole state at the start of generation <gen> (written to .tmp, fsynced, renamed)
 *   journal-<gen>.log    every acknowledged write since that snapshot
 *   LOCK                 the pid of the server that owns the folder
 * Both files are sequences of records: u32 payload length, u32 crc32 of the payload, BSON payload.
 * A record whose length or checksum does not hold is a torn write from a crash: it and anything
 * after it were never acknowledged, so start-up drops them with a warning.
 */

const RECORD_HEADER = 8;
const SNAPSHOT = /^snapshot-(\d+)\.bson$/;
const JOURNAL = /^journal-(\d+)\.log$/;

function frame(payload: Doc): Buffer {
  const u8 = serialize(payload);
  const body = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
  const head = Buffer.alloc(RECORD_HEADER);
  head.writeUInt32LE(body.length, 0);
  head.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([head, body]);
}

/** Parses framed records; returns them and the byte offset where valid data ends. */
function readRecords(buf: Buffer): { records: Doc[]; validBytes: number } {
  const records: Doc[] = [];
  let off = 0;
  while (off + RECORD_HEADER <= buf.length) {
    const len = buf.readUInt32LE(off);
    const sum = buf.readUInt32LE(off + 4);
    const end = off + RECORD_HEADER + len;
    if (len < 5 || end > buf.length) break;
    const body = buf.subarray(off + RECORD_HEADER, end);
    if (crc32(body) !== sum) break;
    try {
      records.push(deserialize(body, { promoteLongs: true, promoteValues: true }));
    } catch {
      break;
    }
    off = end;
  }
  return { records, validBytes: off };
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** What a data folder held at start-up, in the order it must be applied. */
export interface Recovered {
  snapshot: Doc[];
  journal: Doc[];
  generation: number;
}

/**
 * Takes the folder's LOCK (refusing when a live process holds it), then reads the newest complete
 * snapshot and every journal since, truncating a torn tail so that new appends follow valid data.
 */
export function recover(dir: string, warn: (msg: string) => void): Recovered {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, 'LOCK');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new Error(`data folder ${dir} is in use by process ${pid} (remove ${lock} if that is wrong)`);
    }
  }
  writeFileSync(lock, String(process.pid));

  const names = readdirSync(dir);
  const gens = (re: RegExp): number[] =>
    names
      .map((n) => re.exec(n)?.[1])
      .filter((g): g is string => g !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  const snapshots = gens(SNAPSHOT);
  const snapGen = snapshots.at(-1) ?? 0;
  let snapshot: Doc[] = [];
  if (snapshots.length) {
    const file = join(dir, `snapshot-${snapGen}.bson`);
    const buf = readFileSync(file);
    const { records, validBytes } = readRecords(buf);
    if (validBytes !== buf.length || records.at(-1)?.['t'] !== 'end') {
      throw new Error(
        `snapshot ${file} is damaged; it was written atomically, so the disk itself is at fault`,
      );
    }
    snapshot = records;
  }
  const journal: Doc[] = [];
  const journals = gens(JOURNAL).filter((g) => g >= snapGen);
  for (const g of journals) {
    const file = join(dir, `journal-${g}.log`);
    const buf = readFileSync(file);
    const { records, validBytes } = readRecords(buf);
    if (validBytes !== buf.length) {
      warn(
        `journal ${file}: torn record at byte ${validBytes}, dropping ${buf.length - validBytes} unacknowledged bytes`,
      );
      const fd = openSync(file, 'r+');
      try {
        ftruncateSync(fd, validBytes);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    journal.push(...records);
  }
  return { snapshot, journal, generation: Math.max(snapGen, journals.at(-1) ?? 0) };
}

/** Whether process `pid` is running (EPERM: it is, another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err instanceof Error && 'code' in err && err.code === 'EPERM';
  }
}

/** Options for {@link Journal}. */
export interface JournalOptions {
  dir: string;
  generation: number;
  /** Produces the whole state as snapshot records; called synchronously so it is consistent. */
  snapshot: () => Doc[];
  /** Compact once the journal is larger than this and than the last snapshot. */
  compactAfterBytes: number;
  log: (msg: string) => void;
}

interface Pending {
  bytes: Buffer;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Append-only journal with group commit: every write appended while an fsync is in flight joins
 * the next batch, so concurrent connections share one fsync. `append` serialises synchronously,
 * which keeps journal order identical to the order in which writes changed memory.
 */
export class Journal {
  private readonly opts: JournalOptions;
  private generation: number;
  private file: FileHandle | undefined;
  private size = 0;
  private snapshotSize = 0;
  private pending: Pending[] = [];
  private running: Promise<void> | undefined;
  private closed = false;

  private constructor(opts: JournalOptions) {
    this.opts = opts;
    this.generation = opts.generation;
  }

  /** Opens (or creates) the journal of the current generation for appending. */
  static async open(opts: JournalOptions): Promise<Journal> {
    const j = new Journal(opts);
    const path = j.journalPath(j.generation);
    const created = !existsSync(path);
    j.file = await open(path, 'a');
    j.size = (await j.file.stat()).size;
    if (created) fsyncDir(opts.dir);
    const snap = join(opts.dir, `snapshot-${j.generation}.bson`);
    if (existsSync(snap)) {
      const fd = openSync(snap, 'r');
      j.snapshotSize = fstatSync(fd).size;
      closeSync(fd);
    }
    return j;
  }

  private journalPath(gen: number): string {
    return join(this.opts.dir, `journal-${gen}.log`);
  }

  /** Appends one record; resolves once it is on disk (fsynced). */
  append(record: Doc): Promise<void> {
    if (this.closed) return Promise.reject(new Error('journal is closed'));
    const bytes = frame(record);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ bytes, resolve, reject });
      this.running ??= this.run().finally(() => {
        this.running = undefined;
      });
    });
  }

  private async run(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending.splice(0);
      try {
        if (this.size > Math.max(this.opts.compactAfterBytes, this.snapshotSize)) {
          // The snapshot already contains this batch (memory changed before it was appended).
          await this.compact();
        } else {
          const file = this.file;
          if (!file) throw new Error('journal is not open');
          const buf = Buffer.concat(batch.map((p) => p.bytes));
          await file.write(buf);
          await file.datasync();
          this.size += buf.length;
        }
        for (const p of batch) p.resolve();
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        this.opts.log(`journal write failed: ${e.message}`);
        for (const p of batch) p.reject(e);
      }
    }
  }

  /** Writes a snapshot of the current state and starts a fresh journal generation. */
  private async compact(): Promise<void> {
    const records = this.opts.snapshot();
    const next = this.generation + 1;
    const old = this.file;
    // Switch first: writes arriving while the snapshot is written belong to the next generation.
    this.file = await open(this.journalPath(next), 'a');
    const prevGen = this.generation;
    this.generation = next;
    this.size = 0;
    await old?.close();
    const tmp = join(this.opts.dir, `snapshot-${next}.bson.tmp`);
    const out = await open(tmp, 'w');
    let written = 0;
    try {
      for (const r of [...records, { t: 'end' }]) {
        const b = frame(r);
        await out.write(b);
        written += b.length;
      }
      await out.sync();
    } finally {
      await out.close();
    }
    renameSync(tmp, join(this.opts.dir, `snapshot-${next}.bson`));
    fsyncDir(this.opts.dir);
    this.snapshotSize = written;
    for (let g = 0; g <= prevGen; g++) {
      for (const name of [`snapshot-${g}.bson`, `journal-${g}.log`]) {
        const p = join(this.opts.dir, name);
        if (existsSync(p)) unlinkSync(p);
      }
    }
    this.opts.log(`compacted data folder: snapshot of ${written} bytes, generation ${next}`);
  }

  /** Forces a compaction now (used by tests and at clean shutdown is not needed). */
  async compactNow(): Promise<void> {
    await this.append({ ops: [] });
    await this.running;
    this.size = Number.MAX_SAFE_INTEGER;
    await this.append({ ops: [] });
  }

  /** Waits for pending appends, then closes the file and releases the LOCK. */
  async close(): Promise<void> {
    await this.running;
    this.closed = true;
    await this.file?.close();
    this.file = undefined;
    const lock = join(this.opts.dir, 'LOCK');
    if (existsSync(lock) && readFileSync(lock, 'utf8').trim() === String(process.pid)) unlinkSync(lock);
  }
}
