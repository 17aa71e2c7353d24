// First, so that mongoose and the driver load with their object spreads written out (see lowered-spread.ts).
import './lowered-spread.js';
import mongoose, { type Connection } from 'mongoose';
import { DEFAULT_CATEGORY_ROUTES, DEFAULT_DEPARTMENTS, registerModels, type Models } from './models/index.js';

/**
 * The database handle the rest of the application receives (dependency injection, no globals): the
 * connection and every model registered on it.
 *
 * @example
 * ```ts
 * const db = await openDatabase(config.mongodbUri);
 * const next = await claimNext(db, 'public_works', officialId);
 * await db.close();
 * ```
 */
export interface Db extends Models {
  connection: Connection;
  /** Closes the connection (the models become unusable). */
  close(): Promise<void>;
}

/** Options for {@link connectDatabase}. */
export interface ConnectOptions {
  /** Database name, when the URI does not name one (default: the URI's, else "civic"). */
  dbName?: string;
  /** How long the driver waits for a server before failing an operation (ms). */
  serverSelectionTimeoutMS?: number;
}

/**
 * Opens a dedicated connection (not mongoose's global default) to `uri`, registers every model on it
 * and builds their declared indexes before returning, so that unique constraints hold from the first
 * write (a duplicate inbound message must fail with E11000 even on a fresh database).
 *
 * @example
 * ```ts
 * const connection = await connectDatabase('mongodb://127.0.0.1:27017/civic');
 * const db = databaseOf(connection);
 * ```
 */
export async function connectDatabase(uri: string, options: ConnectOptions = {}): Promise<Connection> {
  const connection = mongoose.createConnection(uri, {
    // Indexes are built once below, awaited, rather than fired in the background per model.
    autoIndex: false,
    autoCreate: true,
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 10_000,
    ...(options.dbName !== undefined ? { dbName: options.dbName } : {}),
  });
  try {
    await connection.asPromise();
    const models = registerModels(connection);
    for (const model of Object.values(models)) {
      // init() is the collection creation mongoose starts on registration (autoCreate); awaiting it
      // here instead of racing a second createCollection against it.
      await model.init();
      // createIndexes, not syncIndexes: it never drops an index an operator added by hand.
      await model.createIndexes();
    }
    return connection;
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw err;
  }
}

/** The {@link Db} handle of a connection opened by {@link connectDatabase}. */
export function databaseOf(connection: Connection): Db {
  return {
    ...registerModels(connection),
    connection,
    close: () => connection.close(),
  };
}

/**
 * Connects ({@link connectDatabase}) and returns the {@link Db} handle; with `seed` (the default),
 * also creates the default departments and category routes when they do not exist yet.
 */
export async function openDatabase(
  uri: string,
  options: ConnectOptions & { seed?: boolean } = {},
): Promise<Db> {
  const db = databaseOf(await connectDatabase(uri, options));
  if (options.seed ?? true) await seedDefaults(db);
  return db;
}

/**
 * Creates the demo pack's departments and category routes where missing. Existing documents are left
 * untouched (`$setOnInsert`), so an admin's changes survive restarts.
 */
export async function seedDefaults(db: Models): Promise<void> {
  await db.Department.bulkWrite(
    DEFAULT_DEPARTMENTS.map((d) => ({
      updateOne: {
        filter: { key: d.key },
        update: { $setOnInsert: { key: d.key, slaHours: d.slaHours } },
        upsert: true,
      },
    })),
    { ordered: false },
  );
  await db.CategoryRoute.bulkWrite(
    Object.entries(DEFAULT_CATEGORY_ROUTES).map(([category, department]) => ({
      updateOne: {
        filter: { category },
        update: { $setOnInsert: { category, department } },
        upsert: true,
      },
    })),
    { ordered: false },
  );
}
