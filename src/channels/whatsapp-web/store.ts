import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import mongoose, { type Connection } from 'mongoose';
import type { Store } from 'whatsapp-web.js';

/** GridFS bucket holding the zipped WhatsApp Web sessions (`<bucket>.files` / `<bucket>.chunks`). */
export const SESSION_BUCKET = 'wweb_sessions';

/**
 * whatsapp-web.js's RemoteAuth `Store` over the application's MongoDB: each session is a zip in GridFS,
 * named after the session, so any instance pointed at the same database logs in without a new QR.
 *
 * The contract is RemoteAuth's, which is file-based: before `save({ session })` RemoteAuth has written
 * `<dataPath>/<session>.zip` (the store only gets the name, hence `dataPath` here, which must equal
 * RemoteAuth's); `extract({ session, path })` must write the zip to `path`.
 *
 * @example
 * const store = new MongoSessionStore(db.connection, '/var/lib/civic/wwebjs');
 * const auth = createRemoteAuth({ store, clientId: 'city', dataPath: '/var/lib/civic/wwebjs' });
 */
export class MongoSessionStore implements Store {
  private readonly dataPath: string;

  constructor(
    private readonly connection: Connection,
    dataPath: string,
    private readonly bucketName: string = SESSION_BUCKET,
  ) {
    this.dataPath = resolve(dataPath);
  }

  private bucket(): mongoose.mongo.GridFSBucket {
    const db = this.connection.db;
    if (!db) throw new Error('the MongoDB connection is not open');
    return new mongoose.mongo.GridFSBucket(db, { bucketName: this.bucketName });
  }

  private async versions(session: string): Promise<mongoose.mongo.GridFSFile[]> {
    return this.bucket()
      .find({ filename: `${session}.zip` }, { sort: { uploadDate: -1, _id: -1 } })
      .toArray();
  }

  async sessionExists({ session }: { session: string }): Promise<boolean> {
    return (await this.versions(session)).length > 0;
  }

  /** Uploads the zip RemoteAuth just wrote, then drops older versions (only once the new one is whole). */
  async save({ session }: { session: string }): Promise<void> {
    const filename = `${session}.zip`;
    const bucket = this.bucket();
    const upload = bucket.openUploadStream(filename);
    await pipeline(createReadStream(join(this.dataPath, filename)), upload);
    for (const old of await this.versions(session)) {
      if (!old._id.equals(upload.id)) await bucket.delete(old._id);
    }
  }

  /** Writes the newest saved zip of `session` to `path`. */
  async extract({ session, path }: { session: string; path: string }): Promise<void> {
    const [latest] = await this.versions(session);
    if (!latest) throw new Error(`no saved WhatsApp Web session "${session}"`);
    await mkdir(dirname(path), { recursive: true });
    await pipeline(this.bucket().openDownloadStream(latest._id), createWriteStream(path));
  }

  async delete({ session }: { session: string }): Promise<void> {
    const bucket = this.bucket();
    for (const version of await this.versions(session)) await bucket.delete(version._id);
  }
}
