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
import { setTimeout as sleep } from 'node:timers/promises';
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
/** A snapshot waits this many times as long as it took to produce each record before the next. */
const SNAPSHOT_PACING = 4;
/** A snapshot being written is flushed to disk every this many bytes (see `writeSnapshot`). */
const SNAPSHOT_SYNC_BYTES = 4 * 1024 * 1024;
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
  /**
   * The whole state as snapshot records. Called synchronously when a compaction starts: the records
   * must hold the state of that moment even if they are produced (and written) later, while writes
   * go on.
   */
  snapshot: () => Iterable<Doc> | AsyncIterable<Doc>;
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
 *
 * Compaction starts a new generation's journal and writes the snapshot beside it, in the background:
 * writes go on being journaled (and acknowledged) meanwhile. Until the snapshot is complete, start-up
 * replays the previous snapshot and both journals. Journal operations are whole documents put or
 * deleted, so replaying the new journal over a snapshot that already holds some of its writes gives
 * the same state.
 */
export class Journal {
  private readonly opts: JournalOptions;
  private generation: number;
  private file: FileHandle | undefined;
  private size = 0;
  private snapshotSize = 0;
  private pending: Pending[] = [];
  private running: Promise<void> | undefined;
  /** The snapshot being written, if any. */
  private compaction: Promise<void> | undefined;
  private closed = false;
  /** Set by {@link close}: a snapshot being written finishes at full speed. */
  private closing = false;

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
        if (!this.compaction && this.size > Math.max(this.opts.compactAfterBytes, this.snapshotSize)) {
          // This batch changed memory before it was appended: the snapshot holds it, and so does the
          // new journal it goes to below, which is what makes it durable now.
          await this.startCompaction();
        }
        const file = this.file;
        if (!file) throw new Error('journal is not open');
        const buf = Buffer.concat(batch.map((p) => p.bytes));
        await file.write(buf);
        await file.datasync();
        this.size += buf.length;
        for (const p of batch) p.resolve();
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        this.opts.log(`journal write failed: ${e.message}`);
        for (const p of batch) p.reject(e);
      }
    }
  }

  /** Takes the snapshot's state, switches to the next generation's journal, and writes the snapshot in the background. */
  private async startCompaction(): Promise<void> {
    const records = this.opts.snapshot();
    const next = this.generation + 1;
    const nextFile = await open(this.journalPath(next), 'a');
    fsyncDir(this.opts.dir);
    const old = this.file;
    const prevGen = this.generation;
    this.file = nextFile;
    this.generation = next;
    this.size = 0;
    await old?.close();
    this.compaction = this.writeSnapshot(records, next, prevGen)
      .catch((err: unknown) => {
        // The previous snapshot and both journals still hold everything: the next compaction retries.
        this.opts.log(`compaction failed: ${err instanceof Error ? err.message : String(err)}`);
      })
      .finally(() => {
        this.compaction = undefined;
      });
  }

  /** Writes snapshot `gen` (to .tmp, fsynced, renamed), then deletes the generations before it. */
  private async writeSnapshot(
    records: Iterable<Doc> | AsyncIterable<Doc>,
    gen: number,
    prevGen: number,
  ): Promise<void> {
    const tmp = join(this.opts.dir, `snapshot-${gen}.bson.tmp`);
    const out = await open(tmp, 'w');
    let written = 0;
    let unsynced = 0;
    try {
      let since = performance.now();
      for await (const r of records) {
        const b = frame(r);
        const spent = performance.now() - since;
        await out.write(b);
        written += b.length;
        unsynced += b.length;
        // Flushed as it goes: one flush of the whole snapshot at the end would hold the journal's
        // own fsyncs (every acknowledged write) behind it for as long as the disk takes.
        if (unsynced >= SNAPSHOT_SYNC_BYTES) {
          await out.datasync();
          unsynced = 0;
        }
        // Paced: the server answers commands in between, and the serialising of a large snapshot
        // (a second or so of CPU) does not take over a core the app needs meanwhile.
        if (!this.closing) await sleep(spent * SNAPSHOT_PACING);
        since = performance.now();
      }
      const end = frame({ t: 'end' });
      await out.write(end);
      written += end.length;
      await out.sync();
    } finally {
      await out.close();
    }
    renameSync(tmp, join(this.opts.dir, `snapshot-${gen}.bson`));
    fsyncDir(this.opts.dir);
    this.snapshotSize = written;
    for (let g = 0; g <= prevGen; g++) {
      // A .tmp is a snapshot a crash interrupted: the journals kept its writes.
      for (const name of [`snapshot-${g}.bson`, `snapshot-${g}.bson.tmp`, `journal-${g}.log`]) {
        const p = join(this.opts.dir, name);
        if (existsSync(p)) unlinkSync(p);
      }
    }
    this.opts.log(`compacted data folder: snapshot of ${written} bytes, generation ${gen}`);
  }

  /** Waits for pending appends and a snapshot being written, then closes the file and releases the LOCK. */
  async close(): Promise<void> {
    this.closing = true;
    await this.running;
    await this.compaction;
    this.closed = true;
    await this.file?.close();
    this.file = undefined;
    const lock = join(this.opts.dir, 'LOCK');
    if (existsSync(lock) && readFileSync(lock, 'utf8').trim() === String(process.pid)) unlinkSync(lock);
  }
}
