import Fastify, { type FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { consoleRoutes, type ConsoleDeps } from '../../src/console/routes.js';
import { hashPassword } from '../../src/console/password.js';
import type { Db } from '../../src/db/connection.js';
import type { OfficialRole } from '../../src/db/models/index.js';
import { CaseNotifier } from '../../src/engine/notifications.js';
import type { Lang } from '../../src/nlu/catalog.js';
import type { TestBot } from '../helpers/bot.js';

/** A fastify app with only the console mounted, over a test bot's database and engine. */
export async function consoleApp(bot: TestBot, extra: Partial<ConsoleDeps> = {}): Promise<FastifyInstance> {
  const http = Fastify();
  await consoleRoutes(http, {
    db: bot.db,
    notifier: new CaseNotifier(bot.app.engine, bot.db, bot.app.i18n),
    i18n: bot.app.i18n,
    loginRateLimit: { max: 1000, timeWindowMs: 60_000 },
    eventsPollMs: 100,
    ...extra,
  });
  await http.ready();
  return http;
}

export interface Account {
  id: string;
  email: string;
  password: string;
}

/** Creates an official directly in the database (what `npm run officials -- add` does). */
export async function addOfficial(
  db: Db,
  email: string,
  role: OfficialRole,
  departments: string[],
  uiLang: Lang = 'en',
): Promise<Account> {
  const password = `pw-${email}-secret`;
  const created = await db.Official.create({
    email,
    name: email.split('@')[0] ?? email,
    role,
    departments,
    uiLang,
    passwordHash: await hashPassword(password),
  });
  return { id: created._id.toHexString(), email, password };
}

export interface LoggedIn {
  token: string;
  csrfToken: string;
  cookie: string;
  /** Headers for a Bearer client. */
  bearer: Record<string, string>;
  /** Headers for the browser: the session cookie and the CSRF token. */
  browser: Record<string, string>;
}

export async function logIn(http: FastifyInstance, account: Account): Promise<LoggedIn> {
  const res = await http.inject({
    method: 'POST',
    url: '/api/v1/session',
    payload: { email: account.email, password: account.password },
  });
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json<{ token: string; csrfToken: string }>();
  const cookie = res.cookies.find((c) => c.name === 'console_session');
  if (cookie === undefined) throw new Error('no session cookie');
  return {
    token: body.token,
    csrfToken: body.csrfToken,
    cookie: `console_session=${cookie.value}`,
    bearer: { authorization: `Bearer ${body.token}` },
    browser: { cookie: `console_session=${cookie.value}`, 'x-csrf-token': body.csrfToken },
  };
}
