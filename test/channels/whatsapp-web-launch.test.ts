import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer';
import wweb from 'whatsapp-web.js';
import type { AuthStrategy } from 'whatsapp-web.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CHROMIUM_ARGS,
  createRealClient,
  createRemoteAuth,
  MongoSessionStore,
} from '../../src/channels/whatsapp-web/index.js';
import { openDatabase, type Db } from '../../src/db/connection.js';
import { startTestMongo, type TestMongo } from '../helpers/mongo.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The puppeteer options whatsapp-web.js's `initialize()` would launch with (read back off the real client). */
const clientOptionsSchema = z.object({
  puppeteer: z.object({
    executablePath: z.string(),
    headless: z.boolean(),
    args: z.array(z.string()),
    userDataDir: z.string().optional(),
  }),
});

/**
 * RemoteAuth backs the profile up only after a live login (60 s after `ready`, then periodically); this
 * runs that same backup step directly, since a login is impossible here.
 */
async function backUpSession(auth: AuthStrategy): Promise<void> {
  const backup: unknown = Reflect.get(auth, 'storeRemoteSession');
  if (typeof backup !== 'function') throw new Error('RemoteAuth no longer has storeRemoteSession');
  const done: unknown = Reflect.apply(backup, auth, []);
  await done;
}

let mongo: TestMongo;
let db: Db;
let dataPath: string;
let server: Server;
let origin: string;

beforeAll(async () => {
  mongo = await startTestMongo();
  db = await openDatabase(mongo.uri);
  dataPath = await mkdtemp(join(tmpdir(), 'wweb-launch-'));
  // A local page stands in for web.whatsapp.com: WhatsApp keeps its login in the origin's storage.
  server = createServer((_req, res) => res.end('<!doctype html><title>local</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  server?.close();
  await db?.close();
  await mongo?.stop();
  if (dataPath) await rm(dataPath, { recursive: true, force: true });
});

/** What `initialize()` does before it opens WhatsApp: restore the profile, then launch Chromium on it. */
async function launchLikeInitialize(clientId: string, connection: Db['connection']) {
  const store = new MongoSessionStore(connection, dataPath);
  const auth = createRemoteAuth({ store, clientId, dataPath });
  const client = createRealClient(CHROMIUM, auth);
  expect(client).toBeInstanceOf(wweb.Client);
  await auth.beforeBrowserInitialized();
  const options = clientOptionsSchema.parse(Reflect.get(client, 'options'));
  const browser = await puppeteer.launch(options.puppeteer);
  return { store, auth, client, options, browser };
}

describe('the real whatsapp-web.js launch path, up to the network', () => {
  it('starts the configured Chromium on a RemoteAuth profile, and a restart restores that profile from MongoDB', async () => {
    const first = await launchLikeInitialize('pilot', db.connection);
    expect(first.options.puppeteer.executablePath).toBe(CHROMIUM);
    expect(first.options.puppeteer.args).toEqual([...CHROMIUM_ARGS]);
    expect(first.options.puppeteer.args).toContain('--no-sandbox');
    expect(first.options.puppeteer.userDataDir).toBe(join(dataPath, 'RemoteAuth-pilot'));
    expect(await first.browser.version()).toMatch(/Chrom/);

    const page = await first.browser.newPage();
    await page.goto(origin);
    await page.evaluate(() => localStorage.setItem('login', 'scanned'));
    await first.browser.close();
    await backUpSession(first.auth);
    await first.client.destroy();
    expect(await first.store.sessionExists({ session: 'RemoteAuth-pilot' })).toBe(true);

    // A new machine: no local profile, a new connection; only MongoDB has the session.
    await rm(join(dataPath, 'RemoteAuth-pilot'), { recursive: true, force: true });
    const again = await openDatabase(mongo.uri, { seed: false });
    try {
      const second = await launchLikeInitialize('pilot', again.connection);
      expect((await stat(join(dataPath, 'RemoteAuth-pilot', 'Default'))).isDirectory()).toBe(true);
      const restored = await second.browser.newPage();
      await restored.goto(origin);
      expect(await restored.evaluate(() => localStorage.getItem('login'))).toBe('scanned');
      await second.browser.close();
      await second.client.destroy();
    } finally {
      await again.close();
    }
  });

  it('starts from an empty profile when MongoDB has no session for this number (a QR will be asked)', async () => {
    const fresh = await launchLikeInitialize('other-number', db.connection);
    const page = await fresh.browser.newPage();
    await page.goto(origin);
    expect(await page.evaluate(() => localStorage.getItem('login'))).toBeNull();
    await fresh.browser.close();
    await fresh.client.destroy();
  });
});
